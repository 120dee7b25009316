import { specifiedDirectives } from 'graphql';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import {
  authDirective,
  checksPasswordDirective,
  grantsOwnerDirective,
  publicDirective,
  rateLimitDirective,
  requiresRecentMfaDirective,
} from '../auth/guards.js';
import { builder } from './builder.js';
import '../modules/user/user.schema.js';
import '../modules/sign-in/sign-in.schema.js';
import '../modules/session/session.schema.js';
import '../modules/audit/audit.schema.js';
import '../modules/api-key/api-key.schema.js';
import '../modules/user/admin.schema.js';
import '../modules/account-recovery/password-reset.schema.js';
import '../modules/account-recovery/email-verification.schema.js';
import '../modules/account-recovery/email-change.schema.js';
import '../modules/mfa/mfa.schema.js';

export const schema = builder.toSchema({
  directives: [
    ...specifiedDirectives,
    authDirective,
    publicDirective,
    grantsOwnerDirective,
    rateLimitDirective,
    checksPasswordDirective,
    requiresRecentMfaDirective,
  ],
  sortSchema: false,
});

/** The SDL committed as schema/schema.graphql, guards included as directives. */
export const printSchema = () => `${printSchemaWithDirectives(schema).trim()}\n`;
