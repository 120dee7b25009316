import type { Logger } from './logger.js';

/**
 * Work a response must not wait for (or whose duration must not show in it), run after it.
 * Failures are logged, never thrown; settle() lets shutdown and tests wait for what is running.
 */
export function createBackgroundTasks(logger: Logger) {
  const running = new Set<Promise<void>>();
  return {
    run(label: string, work: () => Promise<unknown>): void {
      const task: Promise<void> = Promise.resolve()
        .then(work)
        .then(
          () => undefined,
          (error: unknown) => logger.warn({ err: error, task: label }, 'background task failed'),
        )
        .finally(() => running.delete(task));
      running.add(task);
    },
    async settle() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}

export type BackgroundTasks = ReturnType<typeof createBackgroundTasks>;
