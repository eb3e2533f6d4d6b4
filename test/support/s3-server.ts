// Runs s3rver — a local server speaking the S3 protocol over HTTP — in its own process, with
// one bucket, for tests: `node s3-server.js PORT DIR BUCKET`. Objects are also readable
// without credentials at http://127.0.0.1:PORT/BUCKET/KEY, as from a public bucket.

import S3rver from 's3rver';

const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory: directory!, configureBuckets: [{ name: bucket! }] });
await server.run();
process.stdout.write('listening\n');
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
