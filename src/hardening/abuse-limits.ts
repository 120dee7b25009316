import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config/config.js';
import { useInputHygiene } from './input-hygiene.js';
import { useSelectionLimit } from './selection-limit.js';

/**
 * The OWASP GraphQL limits, in one place: graphql-armor checks depth, aliases, directives, tokens
 * and cost before execution, selection-limit.ts the number of fields before validation;
 * src/graphql/error-responses.ts gives each rejection a stable code and its status.
 */
export function abuseLimitPlugins(config: Config): Plugin[] {
  const { limits } = config;
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.tokens }) as Plugin,
    maxDepthPlugin({ n: limits.depth, flattenFragments: true }) as Plugin,
    maxAliasesPlugin({ n: limits.aliases, allowList: [] }) as Plugin,
    maxDirectivesPlugin({ n: limits.directives }) as Plugin,
    costLimitPlugin({ maxCost: limits.cost }) as Plugin,
    useSelectionLimit(limits.selections),
    useInputHygiene({ maxQueryLength: limits.queryLength }),
  ];
  if (!config.introspection) plugins.push(useDisableIntrospection() as Plugin);
  return plugins;
}
