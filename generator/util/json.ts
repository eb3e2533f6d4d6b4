// Parsing JSON that came from a tree or a server without echoing it: JSON.parse's own messages
// quote the start of the text ("<html>…"), which could be an internal server's answer.

/** Thrown by parseJson: says where the text stops being JSON, never what it holds. */
export class NotJson extends Error {}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = /at position (\d+)/.exec((e as Error).message);
    const where = at ? ` (at character ${at[1]})` : /end of JSON/.test((e as Error).message) ? ' (it ends too early)' : '';
    throw new NotJson(`it does not parse as JSON${where}`);
  }
}

/** A JSON object (not null, not an array): what a tree's documents hold at each level. */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
