/**
 * Preloaded (NODE_OPTIONS --import) into every process `npm start` runs (scripts/start.ts):
 * when the start process itself is gone — even killed with SIGKILL, which it cannot handle —
 * this process stops itself (SIGTERM: the services drain and exit) instead of running on as an
 * orphan in its own process group. Plain JavaScript: it runs before tsx is registered.
 */
import { isMainThread } from 'node:worker_threads';

const supervisor = Number(process.env.MOTLAN_SUPERVISOR_PID);
/** How often the start process is looked for. */
const POLL_MS = 500;

if (isMainThread && Number.isInteger(supervisor) && supervisor > 1 && supervisor !== process.pid) {
  const timer = setInterval(() => {
    try {
      process.kill(supervisor, 0);
    } catch (err) {
      if (err && err.code === 'ESRCH') {
        clearInterval(timer);
        process.kill(process.pid, 'SIGTERM');
      }
    }
  }, POLL_MS);
  timer.unref();
}
