/**
 * Records the workflow histories the replay test guards: a monitor that
 * starts an intervention, and that intervention approved, swapped and tracked
 * to its end. Run after an intentional, versioned change to the workflows:
 *   npx tsx test/workflows/record-histories.ts
 */
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { approveSignal, interventionWorkflowId, monitorWorkflowId } from '../../src/workflows/contract.ts';
import { HOUR, MINUTE, harness, sharedEnv, testConfig } from './harness.ts';

const out = new URL('../fixtures/histories/', import.meta.url);
const h = await harness(testConfig({ treasuryId: 'replay' }), { drawdownInMinutes: 10 });
await h.run(async () => {
  const monitor = await h.env.client.workflow.start(strategyMonitor, { taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }] });
  await h.env.sleep(20 * MINUTE);
  const iv = h.env.client.workflow.getHandle(interventionWorkflowId(h.treasuryId, 1));
  await iv.signal(approveSignal, { operator: 'alice', reason: 'recorded for replay' });
  await h.env.sleep(2 * HOUR);
  await monitor.terminate('history recorded');
  await iv.result();
  writeFileSync(new URL('monitor.json', out), historyToJSON(await monitor.fetchHistory()));
  writeFileSync(new URL('intervention.json', out), historyToJSON(await iv.fetchHistory()));
});
await h.close();
await (await sharedEnv()).teardown();
console.log('recorded monitor.json and intervention.json');
