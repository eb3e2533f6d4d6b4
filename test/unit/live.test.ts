// formats/live.ts: the commit of a tree in a bucket — content-addressed paths, and a commit that
// validates and renders the same way whatever order its files come in.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { committedPathOf, liveSchema, renderLive } from '../../generator/formats/live.js';

describe('the commit of a bucket tree', () => {
  it('names each file by the sha256 of its content', () => {
    assert.equal(committedPathOf('abc'), 'staticstreams/committed/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('renders the same text whatever the order of its files, and validates', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    const a = renderLive({ 'streams/v1/index.json': committedPathOf('1'), 'catalog.json': committedPathOf('2') }, at, 'host pid 1');
    const b = renderLive({ 'catalog.json': committedPathOf('2'), 'streams/v1/index.json': committedPathOf('1') }, at, 'host pid 1');
    assert.equal(a, b);
    assert.ok(liveSchema.safeParse(JSON.parse(a)).success);
    assert.throws(() => renderLive({ 'catalog.json': 'elsewhere/x' }, at, 'h'));
  });
});
