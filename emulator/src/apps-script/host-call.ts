/**
 * The worker's side of the synchronous bridge (see protocol.ts): send a call, block on the
 * shared flag, read the reply. Runs only inside a script worker thread.
 */
import { type MessagePort, parentPort, receiveMessageOnPort } from 'node:worker_threads';
import type { ServiceCall, ServiceOp, ServiceOps, ServiceReply } from './protocol.ts';

export type HostCall = <K extends ServiceOp>(
  op: K,
  ...args: ServiceOps[K]['args']
) => ServiceOps[K]['result'];

/** Google's services report failures as `Exception: <message>`; scripts match on the message. */
export class ScriptException extends Error {
  override name = 'Exception';
}

/** @param onReply sees each answer before the script does (the model time it carries) */
export function createHostCall(
  replyPort: MessagePort,
  flag: Int32Array,
  onReply: (reply: ServiceReply) => void = () => {},
): HostCall {
  if (!parentPort) throw new Error('createHostCall runs only in a worker thread');
  const port = parentPort;
  return (op, ...args) => {
    Atomics.store(flag, 0, 0);
    const call: ServiceCall = { kind: 'call', op, args };
    port.postMessage(call);
    for (;;) {
      Atomics.wait(flag, 0, 0);
      const received = receiveMessageOnPort(replyPort);
      if (received) {
        const reply = received.message as ServiceReply;
        onReply(reply);
        if (!reply.ok) throw new ScriptException(reply.message);
        return reply.result as never;
      }
      // The host posts the reply before it flips the flag, so this spins at most briefly.
    }
  };
}
