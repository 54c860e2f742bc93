// Sinks retry transient failures a few times before the processor gives up (FAILED).
import { ProcessorFailure } from '../stages/operator.js';

export const RETRY_DELAYS_MS = [200, 1000, 3000];

export async function withRetries<T>(what: string, attempt: () => Promise<T>, delays = RETRY_DELAYS_MS): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof ProcessorFailure) throw error;
      const delay = delays[i];
      if (delay === undefined) throw new ProcessorFailure(`${what} failed after ${i + 1} attempts: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
