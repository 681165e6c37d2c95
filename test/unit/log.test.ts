import { describe, expect, it } from 'vitest';
import { createLogger, traceLabels } from '../../functions/src/log.ts';

describe('structured log', () => {
  it('writes one JSON object per line with severity, message, labels and the trace', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'INFO', write: (line) => lines.push(line) });
    const trace = traceLabels({ 'x-cloud-trace-context': `${'a'.repeat(32)}/123;o=1` }, 'proj');
    logger.child({ link: 'leads', ...trace }).info('applied', { rowId: 'r1', latencyMs: 12 });
    logger.debug('dropped below the level');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      severity: 'INFO',
      message: 'applied',
      link: 'leads',
      rowId: 'r1',
      latencyMs: 12,
      'logging.googleapis.com/trace': `projects/proj/traces/${'a'.repeat(32)}`,
      'logging.googleapis.com/labels': { link: 'leads', rowId: 'r1', latencyMs: '12' },
    });
  });

  it('reads a W3C traceparent, and gives nothing without a trace header', () => {
    const id = '0af7651916cd43dd8448eb211c80319c';
    expect(traceLabels({ traceparent: `00-${id}-b7ad6b7169203331-01` }, 'p')).toEqual({
      'logging.googleapis.com/trace': `projects/p/traces/${id}`,
    });
    expect(traceLabels({}, 'p')).toEqual({});
  });
});
