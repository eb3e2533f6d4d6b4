// The home page's filters and search: selects for OS, release, architecture, type and variant,
// and Pagefind full-text search, all narrowing the product table. The state lives in the URL
// query (?os=…&q=…) so a filtered view can be linked. Also refreshes the "stale" badges
// against the visitor's clock.

interface Pagefind {
  options(o: Record<string, unknown>): Promise<void>;
  debouncedSearch(q: string, o?: unknown, ms?: number): Promise<{ results: { data(): Promise<{ url: string }> }[] } | null>;
}

/** Columns holding a space-separated list (architecture and type names have no spaces). */
const MULTI = new Set(['arch', 'type']);

const form = document.querySelector<HTMLFormElement>('#filters');
const table = document.querySelector<HTMLTableElement>('#products');
const count = document.querySelector<HTMLElement>('#count');
const noMatch = document.querySelector<HTMLElement>('#no-match');
const search = document.querySelector<HTMLInputElement>('#search');

if (form && table && count && search) {
  const rows = [...table.tBodies[0]!.rows];
  const selects = [...form.querySelectorAll<HTMLSelectElement>('select[data-filter]')];
  let matches: Set<string> | null = null; // slugs matching the search; null = no search
  let pagefind: Promise<Pagefind> | undefined;

  const staleDays = Number(table.dataset.staleDays);
  for (const row of rows) {
    const badge = row.querySelector<HTMLElement>('[data-stale]');
    if (badge) badge.hidden = Date.now() - Date.parse(row.dataset.created ?? '') <= staleDays * 86_400_000;
  }

  const apply = () => {
    let shown = 0;
    for (const row of rows) {
      const ok =
        selects.every((s) => !s.value || (MULTI.has(s.name) ? (row.dataset[s.name] ?? '').split(' ').includes(s.value) : row.dataset[s.name] === s.value)) &&
        (matches === null || matches.has(row.dataset.slug ?? ''));
      row.hidden = !ok;
      if (ok) shown++;
    }
    const noun = rows.length === 1 ? 'product' : 'products';
    count.textContent = shown === rows.length ? `${rows.length} ${noun}` : `${shown} of ${rows.length} ${noun}`;
    if (noMatch) noMatch.hidden = shown > 0;
  };

  const saveState = () => {
    const params = new URLSearchParams();
    if (search.value.trim()) params.set('q', search.value.trim());
    for (const s of selects) if (s.value) params.set(s.name, s.value);
    const query = params.toString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  };

  const loadPagefind = () =>
    (pagefind ??= import(/* @vite-ignore */ search.dataset.pagefind!).then(async (pf: Pagefind) => {
      await pf.options({ excerptLength: 0 });
      return pf;
    }));

  const runSearch = async () => {
    const q = search.value.trim();
    if (!q) {
      matches = null;
      apply();
      return;
    }
    form.setAttribute('aria-busy', 'true');
    try {
      const found = await (await loadPagefind()).debouncedSearch(q, {}, 150);
      if (!found) return; // a newer keystroke superseded this search
      const urls: string[] = [];
      for (let i = 0; i < found.results.length; i += 50) {
        urls.push(...(await Promise.all(found.results.slice(i, i + 50).map(async (r) => (await r.data()).url))));
      }
      if (search.value.trim() !== q) return;
      matches = new Set(
        urls
          .map((u) => /products\/(.+?)\/?(?:index\.html)?(?:[?#].*)?$/.exec(u)?.[1] ?? '')
          .filter(Boolean)
          .map(decodeURI),
      );
      apply();
    } finally {
      form.removeAttribute('aria-busy');
    }
  };

  const params = new URLSearchParams(location.search);
  search.value = params.get('q') ?? '';
  for (const s of selects) {
    const v = params.get(s.name);
    if (v && [...s.options].some((o) => o.value === v)) s.value = v;
  }
  form.hidden = false;
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('change', () => {
    saveState();
    apply();
  });
  form.addEventListener('reset', () => {
    setTimeout(() => {
      matches = null;
      saveState();
      apply();
    });
  });
  document.querySelector('#clear-filters')?.addEventListener('click', () => {
    form.reset();
    search.focus();
  });
  search.addEventListener('focus', () => void loadPagefind().catch(() => {}), { once: true });
  search.addEventListener('input', () => {
    saveState();
    void runSearch();
  });
  apply();
  if (search.value) void runSearch();
}
