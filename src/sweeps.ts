import type { Services } from './graphql/context.js';
import type { Logger } from './lib/logger.js';
import type { MailService } from './modules/mail/mailer.js';
import type { OneTimeTokens } from './modules/one-time-token/one-time-token.service.js';

const SWEEP_MS = 3_600_000;

/** Runs `task` now and every hour, never twice at once; a failure is logged and retried. */
function sweepHourly(name: string, logger: Logger, task: () => Promise<unknown>) {
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= task()
      .then(
        () => undefined,
        (error: Error) => logger.warn({ err: { message: error.message } }, `${name} failed`),
      )
      .finally(() => {
        running = undefined;
      }));
  return { first: run(), timer: setInterval(() => void run(), SWEEP_MS).unref() };
}

/**
 * The background work: audit retention, expired sessions, old mail records, spent or expired
 * link tokens and two-factor challenges hourly, and the mail worker's polling. `first` settles
 * when the first audit sweep has (start-up waits for it, not for a session backlog that may be
 * long).
 */
export function startSweeps(
  services: Pick<Services, 'audit' | 'sessions' | 'mfa'>,
  mail: Pick<MailService, 'start' | 'prune'>,
  oneTimeTokens: Pick<OneTimeTokens, 'sweep'>,
  logger: Logger,
) {
  const audit = sweepHourly('audit retention sweep', logger, () => services.audit.prune());
  const sessions = sweepHourly('session sweep', logger, async () => {
    const removed = await services.sessions.prune();
    if (removed.sessions + removed.refreshTokens > 0) logger.info({ removed }, 'sessions swept');
  });
  const mailRecords = sweepHourly('mail record sweep', logger, () => mail.prune());
  const linkTokens = sweepHourly('mailed link token sweep', logger, () => oneTimeTokens.sweep());
  // Its own timer: retries are due within seconds, not hours. The mailer's close() stops it.
  mail.start();
  const mfa = sweepHourly('two-factor sweep', logger, () => services.mfa.prune());
  return {
    first: audit.first,
    stop() {
      clearInterval(audit.timer);
      clearInterval(sessions.timer);
      clearInterval(mailRecords.timer);
      clearInterval(linkTokens.timer);
      clearInterval(mfa.timer);
    },
  };
}
