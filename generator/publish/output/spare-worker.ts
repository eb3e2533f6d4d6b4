// Lists a spare tree off the main thread (see spare.ts surveySpare).

import { parentPort, workerData } from 'node:worker_threads';
import { listSpare } from './spare.js';

parentPort!.postMessage(listSpare(workerData as string));
