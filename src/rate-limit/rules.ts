/**
 * The rate limits the schema declares, with their defaults and the setting that overrides each.
 * The schema shows the defaults as @rateLimit directives; configuration can tighten or loosen them.
 */
export interface RateLimitRule {
  readonly field: string;
  readonly setting: string;
  readonly max: number;
  readonly window: string;
  readonly identityArgs: readonly string[];
  /** Counted per signed-in user rather than per client address. */
  readonly perUser?: boolean;
}

export const RATE_LIMIT_RULES = {
  loginPerIp: {
    field: 'Mutation.login',
    setting: 'RATE_LIMIT_LOGIN_PER_IP',
    max: 10,
    window: '1m',
    identityArgs: [],
  },
  loginPerIpAndEmail: {
    field: 'Mutation.login',
    setting: 'RATE_LIMIT_LOGIN_PER_EMAIL',
    max: 5,
    window: '1m',
    identityArgs: ['email'],
  },
  signUpPerIp: {
    field: 'Mutation.signUp',
    setting: 'RATE_LIMIT_SIGNUP_PER_IP',
    max: 5,
    window: '10m',
    identityArgs: [],
  },
  changePasswordPerIp: {
    field: 'Mutation.changePassword',
    setting: 'RATE_LIMIT_CHANGE_PASSWORD_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  changePasswordPerUser: {
    field: 'Mutation.changePassword',
    setting: 'RATE_LIMIT_CHANGE_PASSWORD_PER_USER',
    max: 5,
    window: '15m',
    identityArgs: [],
    perUser: true,
  },
  deleteAccountPerIp: {
    field: 'Mutation.deleteAccount',
    setting: 'RATE_LIMIT_DELETE_ACCOUNT_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  deleteAccountPerUser: {
    field: 'Mutation.deleteAccount',
    setting: 'RATE_LIMIT_DELETE_ACCOUNT_PER_USER',
    max: 5,
    window: '15m',
    identityArgs: [],
    perUser: true,
  },
  passwordResetRequestPerIp: {
    field: 'Mutation.requestPasswordReset',
    setting: 'RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_IP',
    max: 5,
    window: '15m',
    identityArgs: [],
  },
  passwordResetRequestPerEmail: {
    field: 'Mutation.requestPasswordReset',
    setting: 'RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_EMAIL',
    max: 3,
    window: '15m',
    identityArgs: ['email'],
  },
  resetPasswordPerIp: {
    field: 'Mutation.resetPassword',
    setting: 'RATE_LIMIT_PASSWORD_RESET_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  verifyEmailPerIp: {
    field: 'Mutation.verifyEmail',
    setting: 'RATE_LIMIT_VERIFY_EMAIL_PER_IP',
    max: 20,
    window: '15m',
    identityArgs: [],
  },
  completeSignUpPerIp: {
    field: 'Mutation.completeSignUp',
    setting: 'RATE_LIMIT_COMPLETE_SIGN_UP_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  requestEmailVerificationPerIp: {
    field: 'Mutation.requestEmailVerification',
    setting: 'RATE_LIMIT_EMAIL_VERIFICATION_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  requestEmailVerificationPerEmail: {
    field: 'Mutation.requestEmailVerification',
    setting: 'RATE_LIMIT_EMAIL_VERIFICATION_PER_EMAIL',
    max: 3,
    window: '15m',
    identityArgs: ['email'],
  },
  requestEmailChangePerIp: {
    field: 'Mutation.requestEmailChange',
    setting: 'RATE_LIMIT_EMAIL_CHANGE_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  requestEmailChangePerUser: {
    field: 'Mutation.requestEmailChange',
    setting: 'RATE_LIMIT_EMAIL_CHANGE_PER_USER',
    max: 5,
    window: '15m',
    identityArgs: [],
    perUser: true,
  },
  confirmEmailChangePerIp: {
    field: 'Mutation.confirmEmailChange',
    setting: 'RATE_LIMIT_CONFIRM_EMAIL_CHANGE_PER_IP',
    max: 20,
    window: '15m',
    identityArgs: [],
  },
  refreshPerIp: {
    field: 'Mutation.refreshToken',
    setting: 'RATE_LIMIT_REFRESH_PER_IP',
    max: 60,
    window: '1m',
    identityArgs: [],
  },
  enrollTotpPerUser: {
    field: 'Mutation.enrollTotp',
    setting: 'RATE_LIMIT_ENROLL_TOTP_PER_USER',
    max: 10,
    window: '15m',
    identityArgs: [],
    perUser: true,
  },
  confirmTotpPerIp: {
    field: 'Mutation.confirmTotp',
    setting: 'RATE_LIMIT_CONFIRM_TOTP_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  confirmTotpPerUser: {
    field: 'Mutation.confirmTotp',
    setting: 'RATE_LIMIT_CONFIRM_TOTP_PER_USER',
    max: 10,
    window: '15m',
    identityArgs: [],
    perUser: true,
  },
  disableTotpPerIp: {
    field: 'Mutation.disableTotp',
    setting: 'RATE_LIMIT_DISABLE_TOTP_PER_IP',
    max: 10,
    window: '15m',
    identityArgs: [],
  },
  disableTotpPerUser: {
    field: 'Mutation.disableTotp',
    setting: 'RATE_LIMIT_DISABLE_TOTP_PER_USER',
    max: 5,
    window: '15m',
    identityArgs: [],
    perUser: true,
  },
  verifyMfaPerIp: {
    field: 'Mutation.verifyMfa',
    setting: 'RATE_LIMIT_VERIFY_MFA_PER_IP',
    max: 20,
    window: '1m',
    identityArgs: [],
  },
  revokePerIp: {
    field: 'OAuth.revoke',
    setting: 'RATE_LIMIT_REVOKE_PER_IP',
    max: 60,
    window: '1m',
    identityArgs: [],
  },
  introspectPerIp: {
    field: 'OAuth.introspect',
    setting: 'RATE_LIMIT_INTROSPECT_PER_IP',
    max: 600,
    window: '1m',
    identityArgs: [],
  },
} as const satisfies Record<string, RateLimitRule>;

export interface EffectiveLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** Identifies one rule of one field, from the schema side and the configuration side alike. */
export const ruleKey = (field: string, identityArgs: readonly string[], perUser = false) =>
  `${field}|${identityArgs.join(',')}${perUser ? '|user' : ''}`;
