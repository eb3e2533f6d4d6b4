// util/url.ts: a URL's user and password are for requests only — never printed, stored or published.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactCredentials, splitCredentials, withoutCredentials } from '../../generator/util/url.js';

describe('credentials in URLs', () => {
  it('withoutCredentials drops user and password, keeps the rest', () => {
    assert.equal(withoutCredentials('https://u:p@host:8443/a/b?x'), 'https://host:8443/a/b?x');
    assert.equal(withoutCredentials('https://host/'), 'https://host/');
    assert.equal(withoutCredentials('not a url'), 'not a url');
  });
  it('redactCredentials finds them anywhere in a text', () => {
    assert.equal(redactCredentials('error: cannot read https://alice:s3cr%40t@h/x: 404'), 'error: cannot read https://h/x: 404');
    assert.equal(redactCredentials('"url": "http://u@h/"'), '"url": "http://h/"');
    assert.equal(redactCredentials('mail me: a@b.org'), 'mail me: a@b.org');
  });
  it('splitCredentials gives the Basic value the clients send', () => {
    const { url, authorization } = splitCredentials('https://alice:p%40ss@h/');
    assert.equal(url, 'https://h/');
    assert.equal(authorization, `Basic ${Buffer.from('alice:p@ss').toString('base64')}`);
    assert.deepEqual(splitCredentials('https://h/'), { url: 'https://h/' });
  });
});

describe('the placeholder', () => {
  it('USER:PASSWORD@ in a message or the docs is kept: it is no secret, and says where the credentials go', () => {
    assert.equal(redactCredentials('give them as https://USER:PASSWORD@HOST'), 'give them as https://USER:PASSWORD@HOST');
  });
});
