import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRoutes, createHttpHandler, memberApiRoutes, openApiFile } from '@qunfa/api';
import { createLogger } from '@qunfa/aws';
import { nodeKinds } from '@qunfa/domain';
import type { Route } from '@qunfa/http';
import { compileRoutes, matchRoute } from '@qunfa/local';
import { httpRoutes } from '@qunfa/resources';
import { describe, expect, it } from 'vitest';
import {
  buildOpenApiDocument,
  documentedSegmentNodeKinds,
  openApiText,
  routesByFunction,
} from '../../../packages/api/src/openapi';
import { httpEvent, lambdaContext } from '../../support/events';

// docs/openapi.json against the routes: the committed document is what the builder makes
// now, every route of every function's router is in it, served by the function the gateway
// sends its path to, and the document holds together (every $ref resolves, every operation
// answers something, examples parse with the routes' own schemas).

const docsFile = join(import.meta.dirname, '..', '..', '..', 'docs', 'openapi.json');
const committed = readFileSync(docsFile, 'utf8');
const built = buildOpenApiDocument();

type Json = Record<string, unknown>;
const methods = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'] as const;

function operations(document: Json): { path: string; method: string; operation: Json }[] {
  const paths = document.paths as Record<string, Json>;
  return Object.entries(paths).flatMap(([path, item]) =>
    methods
      .filter((m) => item[m] !== undefined)
      .map((method) => ({ path, method, operation: item[method] as Json })),
  );
}

/** Every route the HTTP API's routers serve, every optional route included. */
function everyRouterRoute(): Route[] {
  const unused = {} as never;
  return apiRoutes({
    tenancy: unused,
    members: unused,
    segments: unused,
    imports: unused,
    templates: unused,
    tagJobs: unused,
    campaigns: unused,
    runMessages: unused,
    testSends: unused,
    replyRules: unused,
    conversions: unused,
    openApi: unused,
    logger: unused,
  });
}

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` writes now (run it after changing a route)', () => {
    expect(committed, 'docs/openapi.json drifted from the routes: run `npm run openapi`').toBe(openApiText());
  });

  it('has every route of every router, under the function that serves it', () => {
    const documented = new Set(
      operations(built).map(({ path, method }) => `${method.toUpperCase()} ${path}`),
    );
    const routes = everyRouterRoute();
    expect(routes.length).toBeGreaterThan(50);
    for (const route of routes)
      expect(documented, 'a route missing from the document').toContain(`${route.method} ${route.path}`);

    // The builder's per-function lists are the same routes as the whole API's.
    const byFunction = Object.values(routesByFunction()).flat();
    expect(byFunction.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      routes.map((r) => `${r.method} ${r.path}`).sort(),
    );
  });

  it('names for each operation the function API Gateway routes its path to', () => {
    const gateway = compileRoutes(httpRoutes);
    for (const { path, method, operation } of operations(built)) {
      // A concrete path of the template: each {name} a sample segment.
      const sample = path.replace(/\{[^}]+\}/g, 'x1');
      const match = matchRoute(gateway, sample);
      expect(match?.route.functionId, `${method} ${path}`).toBe(operation['x-qunfa-function']);
    }
    // And every gateway route but $default leads to at least one documented operation.
    const documentedPaths = Object.keys(built.paths as Json);
    for (const { path } of httpRoutes.filter((r) => r.path !== '$default')) {
      const prefix = path.replace(/\{proxy\+\}$/, '');
      const template = new RegExp(`^${path.replace(/\{proxy\+\}$/, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      expect(
        documentedPaths.some((p) => template.test(p) || (prefix !== path && p.startsWith(prefix))),
        path,
      ).toBe(true);
    }
  });

  it('is an OpenAPI 3.1 document whose operations all answer and whose $refs all resolve', () => {
    expect(built.openapi).toBe('3.1.0');
    expect(built.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const ids = new Set<string>();
    for (const { path, method, operation } of operations(built)) {
      const where = `${method} ${path}`;
      expect(typeof operation.operationId, where).toBe('string');
      expect(ids.has(operation.operationId as string), `${where}: operationId used twice`).toBe(false);
      ids.add(operation.operationId as string);
      expect(typeof operation.summary, where).toBe('string');
      const responses = Object.keys((operation.responses ?? {}) as Json);
      expect(
        responses.some((status) => /^[23]\d\d$/.test(status)),
        `${where}: a success response`,
      ).toBe(true);
      expect(responses.every((status) => /^[1-5]\d\d$/.test(status))).toBe(true);
      // Path parameters: exactly the template's.
      const declared = ((operation.parameters ?? []) as Json[])
        .filter((p) => p.in === 'path')
        .map((p) => p.name);
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(declared.sort(), where).toEqual(inTemplate.sort());
      // Security: the public routes say so, the others need the key.
      const isPublic = operation['x-qunfa-role'] === 'public';
      expect(operation.security === undefined, where).toBe(!isPublic);
      if (!isPublic) expect(responses, where).toEqual(expect.arrayContaining(['401', '403', '429', '500']));
    }
    expect(built.security).toEqual([{ apiKey: [] }]);

    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          if (key === '$ref' && typeof child === 'string') refs.push(child);
          else walk(child);
        }
      }
    };
    walk(built);
    expect(refs.length).toBeGreaterThan(100);
    for (const ref of new Set(refs)) {
      expect(ref, 'a local reference').toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')],
          built,
        );
      expect(target, `${ref} resolves`).toBeTypeOf('object');
    }
  });

  it('documents the 400 shape with problems, and each error where it applies', () => {
    const schemas = (built.components as Json).schemas as Record<string, Json>;
    expect(schemas.Error?.required).toEqual(['code', 'message', 'requestId']);
    expect(schemas.Problem?.required).toEqual(['path', 'message']);
    const op = (path: string, method: string) => ((built.paths as Json)[path] as Json)[method] as Json;
    const statuses = (path: string, method: string) => Object.keys(op(path, method).responses as Json);
    expect(statuses('/members/{memberId}', 'put')).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '403', '404', '409', '413', '415', '429', '500']),
    );
    expect(statuses('/campaigns/{campaignId}/pause', 'post')).toContain('409');
    expect(statuses('/me', 'get')).not.toContain('400');
    expect(statuses('/openapi.json', 'get')).not.toContain('401');
    expect(op('/opt-outs/export', 'get').responses).toMatchObject({ '200': { content: { 'text/csv': {} } } });
    expect(op('/imports/{importId}/parts/{part}', 'put').requestBody).toMatchObject({
      content: { 'text/csv': {} },
    });
  });

  it('gives request examples that the routes themselves accept', () => {
    const routes = new Map(everyRouterRoute().map((r) => [`${r.method.toLowerCase()} ${r.path}`, r]));
    let checked = 0;
    for (const { path, method, operation } of operations(built)) {
      const content = (operation.requestBody as Json | undefined)?.content as
        | Record<string, Json>
        | undefined;
      const example = content?.['application/json']?.example;
      if (example === undefined) continue;
      const route = routes.get(`${method} ${path}`);
      const result = route?.body?.safeParse(example);
      expect(result?.success, `${method} ${path}: ${JSON.stringify(result?.error?.issues)}`).toBe(true);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('describes every node kind of the segment language', () => {
    expect([...documentedSegmentNodeKinds].sort()).toEqual([...nodeKinds].sort());
  });
});

describe('GET /openapi.json', () => {
  const handler = createHttpHandler({
    routes: memberApiRoutes({
      tenancy: {} as never,
      members: {} as never,
      segments: {} as never,
      imports: {} as never,
      tagJobs: {} as never,
      openApi: openApiFile([join(import.meta.dirname, 'no-such-file.json'), docsFile]),
    }),
    tenancy: {
      store: {
        getApiKey: async () => undefined,
      } as never,
    },
    logger: createLogger({ service: 'test', level: 'SILENT' }),
  });

  it('answers the committed document without an API key', async () => {
    const response = await handler(httpEvent({ method: 'GET', path: '/openapi.json' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^application\/json/);
    expect(response.body).toBe(committed);
  });

  it('still asks every other route for a key', async () => {
    const response = await handler(httpEvent({ method: 'GET', path: '/me' }), lambdaContext());
    expect(response.statusCode).toBe(401);
  });
});
