/** A progress bar on stderr for long runs: only on a terminal, only past 100,000 rows, redrawn at most 10 times a second. */
import type { WriteStream } from 'node:tty';

export interface Progress {
  tick(): void;
  done(): void;
}

export function progressBar(text: string, stream: NodeJS.WriteStream | WriteStream, minRows = 100_000): Progress | null {
  if (!stream.isTTY) return null;
  let total = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) total++;
  if (total < minRows) return null;
  let n = 0;
  let lastDraw = 0;
  const draw = () => {
    const share = Math.min(1, n / total);
    const width = 30;
    const filled = Math.round(share * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)} % ${n.toLocaleString('en-US')} rows`);
  };
  return {
    tick() {
      n++;
      if ((n & 0x3ff) === 0) {
        const now = performance.now();
        if (now - lastDraw > 100) {
          lastDraw = now;
          draw();
        }
      }
    },
    done() {
      draw();
      stream.write('\n');
    },
  };
}
