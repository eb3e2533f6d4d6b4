// Filters a product page's package lists by name as the visitor types.

for (const input of document.querySelectorAll<HTMLInputElement>('input[data-package-filter]')) {
  const table = document.getElementById(input.dataset.packageFilter ?? '');
  const none = document.querySelector<HTMLElement>(`[data-package-none="${input.dataset.packageFilter}"]`);
  input.closest('label')?.removeAttribute('hidden');
  if (!table) continue;
  const rows = [...table.querySelectorAll<HTMLTableRowElement>('tbody tr')];
  input.addEventListener('input', () => {
    const q = input.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const match = !q || (row.dataset.name ?? '').toLowerCase().includes(q);
      row.hidden = !match;
      if (match) shown++;
    }
    if (none) none.hidden = shown > 0;
  });
}
