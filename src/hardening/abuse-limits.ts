import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';

/**
 * The OWASP GraphQL limits, in one place: graphql-armor checks depth, aliases, directives, tokens
 * and cost before execution; this module gives each rejection a stable code and HTTP 400.
 */
const REJECTIONS: [RegExp, string][] = [
  [/Query depth limit of \d+ exceeded/, 'QUERY_TOO_DEEP'],
  [/Aliases limit of \d+ exceeded/, 'TOO_MANY_ALIASES'],
  [/Directives limit of \d+ exceeded/, 'TOO_MANY_DIRECTIVES'],
  [/Token limit of \d+ exceeded/, 'TOO_MANY_TOKENS'],
  [/Query Cost limit of \d+ exceeded/, 'QUERY_TOO_COMPLEX'],
];

function useRejectionCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      let changed = false;
      const errors = result.errors.map((error) => {
        const code = REJECTIONS.find(([pattern]) => pattern.test(error.message))?.[1];
        if (!code) return error;
        changed = true;
        return new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
          nodes: error.nodes,
          extensions: { code, http: { status: 400 } },
        });
      });
      if (changed) setResult({ ...result, errors });
    },
  };
}

export function abuseLimitPlugins(config: Config): Plugin[] {
  const { limits } = config;
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.tokens }) as Plugin,
    maxDepthPlugin({ n: limits.depth, flattenFragments: true }) as Plugin,
    maxAliasesPlugin({ n: limits.aliases, allowList: [] }) as Plugin,
    maxDirectivesPlugin({ n: limits.directives }) as Plugin,
    costLimitPlugin({ maxCost: limits.cost }) as Plugin,
    useRejectionCodes(),
  ];
  if (!config.introspection) {
    // With introspection off, "Did you mean …?" hints would leak the schema one field at a time.
    plugins.push(useDisableIntrospection() as Plugin, blockFieldSuggestionsPlugin() as Plugin);
  }
  return plugins;
}
