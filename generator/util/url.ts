// URLs with a user and password (`https://USER:PASSWORD@host/`: a private server, as the clients
// take it) are for requests only. What is printed, stored or published names the URL without
// them; the credentials are kept apart, per origin, and sent only to that origin (source/http.ts).

/** `url` without its user and password (unchanged when it has none or is not a URL). */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}

/** The placeholder the docs and messages write (`https://USER:PASSWORD@HOST`): not a secret. */
const PLACEHOLDER = 'USER:PASSWORD@';

/** Every `scheme://user:password@` in a text (a message, a summary) without the user and password. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]*@)/gi, (whole, scheme: string, userinfo: string) =>
    userinfo === PLACEHOLDER ? whole : scheme,
  );
}

/** The URL without credentials, and an Authorization value for them (Basic, as the clients send it). */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (!u.username && !u.password) return { url };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  return { url: withoutCredentials(url), authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}
