import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetadata, MetadataProblem } from '../../generator/ingest/metadata.js';

const parse = (text: string) => parseMetadata(Buffer.from(text));
function problem(text: string | Buffer): MetadataProblem {
  try {
    parseMetadata(typeof text === 'string' ? Buffer.from(text) : text);
  } catch (e) {
    assert.ok(e instanceof MetadataProblem, `expected a MetadataProblem, got ${e}`);
    return e;
  }
  assert.fail('expected metadata.yaml to be refused');
}

describe('metadata.yaml schema', () => {
  it('reads a distrobuilder-style file and maps the architecture', () => {
    const m = parse('architecture: aarch64\ncreation_date: 1700000000\nproperties:\n  os: Debian\n  release: bookworm\n  serial: "20231114_05:24"\n');
    assert.equal(m.architecture.canonical, 'aarch64');
    assert.equal(m.architecture.debian, 'arm64');
    assert.equal(m.creationDate, 1700000000);
    assert.deepEqual(m.properties, { os: 'Debian', release: 'bookworm', serial: '20231114_05:24' });
  });

  it('accepts the architecture aliases LXD accepts', () => {
    for (const [name, debian] of [
      ['amd64', 'amd64'],
      ['x86_64', 'amd64'],
      ['armhf', 'armhf'],
      ['ppc64el', 'ppc64el'],
      ['i686', 'i386'],
      ['riscv64', 'riscv64'],
    ]) {
      assert.equal(parse(`architecture: ${name}\ncreation_date: 1\n`).architecture.debian, debian);
    }
  });

  it('keeps property values as the text written, as LXD does (22.04, 1.10, 12)', () => {
    const m = parse('architecture: x86_64\ncreation_date: 5\nproperties:\n  release: 22.04\n  version: 1.10\n  n: 12\n  empty:\n  flag: true\n');
    assert.deepEqual(m.properties, { release: '22.04', version: '1.10', n: '12', empty: '', flag: 'true' });
  });

  it('refuses an unknown architecture, naming the field and the choices', () => {
    const p = problem('architecture: sparc\ncreation_date: 5\n');
    assert.equal(p.field, 'architecture');
    assert.match(p.problem, /"sparc" is not an architecture LXD knows/);
    assert.match(p.fix, /x86_64/);
  });

  it('refuses creation_date 0, negative, quoted or missing', () => {
    assert.equal(problem('architecture: x86_64\ncreation_date: 0\n').field, 'creation_date');
    assert.equal(problem('architecture: x86_64\ncreation_date: -5\n').field, 'creation_date');
    assert.match(problem('architecture: x86_64\ncreation_date: "1700000000"\n').problem, /integer/);
    assert.match(problem('architecture: x86_64\n').problem, /missing/);
  });

  it('refuses properties that are a list, or values that are maps', () => {
    assert.equal(problem('architecture: x86_64\ncreation_date: 5\nproperties:\n  - os\n').field, 'properties');
    assert.equal(problem('architecture: x86_64\ncreation_date: 5\nproperties:\n  os:\n    a: b\n').field, 'properties.os');
  });

  it('refuses control characters and line breaks in properties', () => {
    assert.match(problem('architecture: x86_64\ncreation_date: 5\nproperties:\n  description: "a\\nb"\n').problem, /control character/);
  });

  it('refuses invalid YAML, non-UTF-8, a non-map document and a YAML alias bomb', () => {
    assert.match(problem('architecture: [x86_64\n').problem, /not valid YAML/);
    assert.match(problem(Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe])).problem, /UTF-8/);
    assert.match(problem('- a\n- b\n').problem, /not a YAML map/);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const p = problem(`${bomb.join('\n')}\narchitecture: x86_64\ncreation_date: 5\n`);
    assert.match(p.problem, /cannot be read|alias/i);
  });
});
