/**
 * LockService (https://developers.google.com/apps-script/reference/lock/lock-service). The
 * host holds the locks, so they exclude across concurrent executions in different workers.
 * A lock an execution still holds when it ends is released then, as on Google.
 */
import { type HostCall, ScriptException } from '../host-call.ts';

/** Waits are the host's: in real time, or on the limits model's clock (limits.ts). */
export function createLockService(call: HostCall, spreadsheetId: string, user: string) {
  const wait = (timeoutInMillis: number) => Math.max(0, Number(timeoutInMillis) || 0);
  const lock = (key: string) => {
    let held = false;
    return {
      tryLock(timeoutInMillis: number) {
        if (held) return true;
        held = call('lock.acquire', key, wait(timeoutInMillis));
        return held;
      },
      waitLock(timeoutInMillis: number) {
        if (held) return;
        held = call('lock.acquire', key, wait(timeoutInMillis));
        if (!held)
          throw new ScriptException('Lock timeout: another process was holding the lock for too long.');
      },
      hasLock: () => held,
      releaseLock() {
        if (!held) return;
        held = false;
        call('lock.release', key);
      },
    };
  };
  return {
    getScriptLock: () => lock(`${spreadsheetId}/script`),
    getDocumentLock: () => lock(`${spreadsheetId}/document`),
    getUserLock: () => lock(`${spreadsheetId}/user/${user}`),
  };
}
