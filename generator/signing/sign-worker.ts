// A signing worker (signing/sign-pool.ts): unlocks the key it is given once, then signs the
// documents it is sent, each as the main thread would (signing/openpgp.ts).

import { parentPort } from 'node:worker_threads';
import { documentSigner, unlockedKey } from './openpgp.js';
import type { SignRequest, SignReply } from './sign-pool.js';

parentPort!.on('message', async (request: SignRequest) => {
  let reply: SignReply;
  try {
    const key = await unlockedKey(request.key, new Date(request.validFrom));
    const sign = await documentSigner(key, request.jobs[0]?.time ?? 0);
    const signatures: string[] = [];
    for (const job of request.jobs) signatures.push(await sign(job.text, job.form, job.time));
    reply = { signatures };
  } catch (e) {
    reply = { error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
