// Copy buttons for every command (and hash) on a page; and, when the build had no base URL, the commands
// get this server's address from the browser's location.

import { PLACEHOLDER_URL } from '../lib/commands.js';

const base = new URL(import.meta.env.BASE_URL, location.href).href.replace(/\/$/, '');
for (const pre of document.querySelectorAll<HTMLElement>('pre[data-command]')) {
  if (pre.textContent?.includes(PLACEHOLDER_URL)) pre.textContent = pre.textContent.replaceAll(PLACEHOLDER_URL, base);
}

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Older browsers and insecure origins: copy through a selected textarea.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-copy], button[data-copy-text]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    const text = button.dataset.copyText ?? button.parentElement?.querySelector<HTMLElement>('pre[data-command]')?.textContent;
    if (text === undefined || text === null) return;
    await copy(text);
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = 'Copy'), 1500);
  });
}
