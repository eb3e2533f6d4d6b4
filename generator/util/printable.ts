// Text from a tree, an image or a server as it is printed on a terminal: control characters
// (escape sequences that move the cursor, rewrite the title, fake a line) are shown as \xNN,
// and a URL's user and password (https://USER:PASSWORD@host) are left out.

import { redactCredentials } from './url.js';

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- the same, with tab and newline
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;

const escaped = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** `text` safe to print: newlines and tabs kept (our messages have lines), every other control character escaped. */
export const printable = (text: string): string => redactCredentials(text).replace(CONTROL, escaped);

/** One table cell or name: every control character escaped, newlines too. */
export const printableCell = (text: string): string => redactCredentials(text).replace(CONTROL_ALL, escaped);
