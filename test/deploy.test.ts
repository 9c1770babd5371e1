/**
 * The deployable artefacts of deploy/ (docs/OPERATIONS.md), checked without a cluster or a
 * container engine (this machine has neither):
 *
 * - every Kubernetes object of deploy/k8s/*.yaml is constructed with `kubernetes-models` and
 *   validated against the Kubernetes OpenAPI schema (types, required fields, formats; note that
 *   the schema accepts unknown fields, so the checks below name the fields that matter);
 * - the gateway's probes: readiness on /ready, liveness on /health, on a declared port;
 * - selectors: every Service, PDB, HPA and NetworkPolicy selects an existing Deployment; only the
 *   gateway reaches the subgraphs; each subgraph reaches only its own registry (and DNS);
 * - Secrets hold placeholders only, and every Secret a pod refers to exists with that key;
 * - the Dockerfile: multi-stage, `npm ci --omit=dev`, a non-root USER, no npm at run time; and
 *   every file the gateway, the subgraphs and the CLI load at run time is in a COPY'd folder and
 *   not excluded by the ignore file.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { REGISTRIES } from '../lib/registries.js';
import { REPO_ROOT } from '../lib/repo-root.js';

const K8S = path.join(REPO_ROOT, 'deploy/k8s');

/** One model class per (apiVersion, kind) the manifests may use: anything else is refused. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

type Labels = Record<string, string>;
// Loosely typed views of the parsed YAML (validated by the models first).
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}

function loadManifests(): Array<{ file: string; object: K8sObject }> {
  const out: Array<{ file: string; object: K8sObject }> = [];
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as K8sObject | null;
      if (object) out.push({ file, object });
    }
  }
  return out;
}

const manifests = loadManifests();
const objects = manifests.map((m) => m.object);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const named = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`No ${kind} named ${name} in deploy/k8s`);
  return found;
};
const matches = (selector: Labels, labels: Labels | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const deployments = ofKind('Deployment');
const podLabels = (d: K8sObject): Labels => d.spec.template.metadata.labels;
/** The Deployments whose pods a label selector picks. */
const selected = (selector: Labels) => deployments.filter((d) => matches(selector, podLabels(d)));
const gateway = named('Deployment', 'motlan-gateway');
const subgraphOf = (r: string) => named('Deployment', `motlan-subgraph-${r}`);
const containerPort = (d: K8sObject): number => d.spec.template.spec.containers[0].ports[0].containerPort;

describe('deploy/k8s manifests', () => {
  it('every object is valid against the Kubernetes schema (kubernetes-models), in the motlan namespace', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(20);
    for (const { file, object } of manifests) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${file}: ${object.apiVersion} ${object.kind} is not a kind this test knows`).toBeDefined();
      expect(() => new Model!(object as never).validate(), `${file}: ${object.kind} ${object.metadata?.name}`).not.toThrow();
      if (object.kind !== 'Namespace') expect(object.metadata.namespace, `${file}: ${object.kind} ${object.metadata.name}`).toBe('motlan');
    }
  });

  it('the schema validation is not a formality: a broken object is refused', () => {
    const broken = structuredClone(gateway) as K8sObject;
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer/);
    const noSelector = structuredClone(gateway) as K8sObject;
    delete noSelector.spec.selector;
    expect(() => new Deployment(noSelector as never).validate()).toThrow(/selector/);
  });

  it('the gateway: readiness on /ready, liveness on /health, on its declared port; two replicas at least; not root', () => {
    const pod = gateway.spec.template.spec;
    const container = pod.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect(container.ports.map((p: { name: string }) => p.name)).toContain(probe.httpGet.port);
    }
    expect(gateway.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.command).toEqual(['node', '--import', 'tsx', 'gateway/main.ts']);
    const env = Object.fromEntries(container.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env.NODE_ENV).toBe('production');
    expect(env.INSTANCE_ID).toBe('$(POD_NAME)');
    // Each pod's witness file on the witness volume, away from DATA_DIR.
    const mounts = Object.fromEntries(container.volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
    expect(env.AUDIT_WITNESS_FILE.startsWith(`${mounts.witness}/`)).toBe(true);
    expect(mounts.witness).not.toBe(mounts.data);
    // The gateway reaches each subgraph by its Service, on the subgraph's port.
    for (const r of REGISTRIES) {
      const service = named('Service', `motlan-subgraph-${r}`);
      expect(env[`SUBGRAPH_URL_${r.toUpperCase()}`]).toBe(`http://${service.metadata.name}:${service.spec.ports[0].port}/graphql`);
      expect(service.spec.ports[0].port).toBe(containerPort(subgraphOf(r)));
    }
  });

  it('every Deployment: its selector picks its own pods, non-root, read-only root filesystem, probes on /health or /ready', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['motlan-gateway', ...REGISTRIES.map((r) => `motlan-subgraph-${r}`)].sort());
    for (const d of deployments) {
      expect(matches(d.spec.selector.matchLabels, podLabels(d)), d.metadata.name).toBe(true);
      expect(selected(d.spec.selector.matchLabels), `${d.metadata.name}'s selector picks only its pods`).toEqual([d]);
      expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      const c = d.spec.template.spec.containers[0];
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(['/ready', '/health']).toContain(c.readinessProbe.httpGet.path);
      expect(c.livenessProbe.httpGet.path).toBe('/health');
    }
  });

  it('Services, the PodDisruptionBudget and the HorizontalPodAutoscaler point at existing Deployments', () => {
    for (const s of ofKind('Service')) expect(selected(s.spec.selector), `Service ${s.metadata.name}`).toHaveLength(1);
    const pdb = named('PodDisruptionBudget', 'motlan-gateway');
    expect(selected(pdb.spec.selector.matchLabels)).toEqual([gateway]);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    const hpa = named('HorizontalPodAutoscaler', 'motlan-gateway');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: gateway.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable - 1);
  });

  it('network policies: default deny; only the gateway reaches the subgraphs; each subgraph reaches only its own registry', () => {
    const policies = ofKind('NetworkPolicy');
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny?.spec.ingress ?? []).toEqual([]);
    expect(deny?.spec.egress ?? []).toEqual([]);
    // Every other policy selects exactly one Deployment.
    for (const p of policies.filter((x) => x !== deny)) expect(selected(p.spec.podSelector.matchLabels), `NetworkPolicy ${p.metadata.name}`).toHaveLength(1);
    const policyOf = (d: K8sObject) => {
      const found = policies.filter((p) => p !== deny && matches(p.spec.podSelector.matchLabels, podLabels(d)));
      expect(found, `one policy for ${d.metadata.name}`).toHaveLength(1);
      return found[0]!;
    };
    const gatewayPolicy = policyOf(gateway);
    const gatewayEgressPods = gatewayPolicy.spec.egress.flatMap((rule: { to: Array<{ podSelector?: { matchLabels: Labels } }> }) =>
      rule.to.filter((t) => t.podSelector).flatMap((t) => selected(t.podSelector!.matchLabels)),
    );
    const registryCidrs = new Map<string, string>();
    for (const r of REGISTRIES) {
      const sub = subgraphOf(r);
      // The gateway's egress allows this subgraph, on its port.
      expect(gatewayEgressPods).toContain(sub);
      const policy = policyOf(sub);
      expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
      // Ingress: only from the gateway's pods (no namespace or address rule), on the subgraph's port.
      for (const rule of policy.spec.ingress) {
        expect(rule.from.length).toBeGreaterThan(0);
        for (const from of rule.from) {
          expect(Object.keys(from), `${r}: ingress only by pod selector`).toEqual(['podSelector']);
          expect(selected(from.podSelector.matchLabels)).toEqual([gateway]);
        }
        expect(rule.ports.map((p: { port: number }) => p.port)).toEqual([containerPort(sub)]);
      }
      // Egress: one address block (its registry) and DNS, never another pod.
      const blocks: string[] = [];
      for (const rule of policy.spec.egress) {
        for (const to of rule.to) {
          expect(to.podSelector, `${r} may not reach other pods`).toBeUndefined();
          if (to.ipBlock) blocks.push(to.ipBlock.cidr);
          else expect(to.namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('kube-system');
          if (!to.ipBlock) expect(rule.ports.every((p: { port: number }) => p.port === 53)).toBe(true);
        }
      }
      expect(blocks, `${r}: exactly its registry`).toHaveLength(1);
      registryCidrs.set(r, blocks[0]!);
    }
    expect(new Set(registryCidrs.values()).size, 'each subgraph its own registry').toBe(REGISTRIES.length);
    // The gateway reaches no registry.
    const gatewayBlocks = gatewayPolicy.spec.egress.flatMap((rule: { to: Array<{ ipBlock?: { cidr: string } }> }) => rule.to.filter((t) => t.ipBlock).map((t) => t.ipBlock!.cidr));
    for (const cidr of registryCidrs.values()) expect(gatewayBlocks).not.toContain(cidr);
    // Nothing but the gateway policy lets a pod reach a subgraph.
    for (const p of policies.filter((x) => x !== gatewayPolicy)) {
      for (const rule of p.spec.egress ?? []) for (const to of rule.to) if (to.podSelector) expect(selected(to.podSelector.matchLabels)).not.toContain(subgraphOf('population'));
    }
  });

  it('Secrets hold placeholders only, and every Secret a pod refers to exists with that key', () => {
    const secrets = ofKind('Secret');
    for (const s of secrets) {
      expect(s.data, `${s.metadata.name}: stringData placeholders, no encoded data`).toBeUndefined();
      for (const [key, value] of Object.entries(s.stringData ?? {})) {
        if (key === 'clients.json') expect(JSON.parse(value)).toEqual({ clients: [] });
        else expect(value, `${s.metadata.name}.${key}`).toContain('REPLACE-ME');
        // Short enough that production refuses it as a key (keys need 32 characters).
        if (!key.endsWith('_URL') && key !== 'clients.json') expect(value.length).toBeLessThan(32);
      }
    }
    const keysOf = (name: string) => {
      const s = secrets.find((x) => x.metadata.name === name);
      expect(s, `Secret ${name} exists`).toBeDefined();
      return Object.keys(s!.stringData ?? {});
    };
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      for (const c of pod.containers) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) expect(keysOf(e.valueFrom.secretKeyRef.name)).toContain(e.valueFrom.secretKeyRef.key);
        for (const e of c.envFrom ?? []) keysOf(e.secretRef.name);
      }
      for (const v of pod.volumes ?? []) if (v.secret) keysOf(v.secret.secretName);
    }
    // The gateway gets every subgraph's signing key and the audit keys from its Secret.
    const gatewayKeys = keysOf('motlan-gateway-keys');
    for (const r of REGISTRIES) expect(gatewayKeys).toContain(`SUBGRAPH_SIGNING_KEY_${r.toUpperCase()}`);
    for (const k of ['AUDIT_HMAC_KEY', 'AUDIT_DATABASE_URL', 'REDIS_URL', 'METRICS_TOKEN']) expect(gatewayKeys).toContain(k);
  });
});

// ---------------------------------------------------------------------------

const DOCKERFILE = readFileSync(path.join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
const IGNORE = readFileSync(path.join(REPO_ROOT, 'deploy/Dockerfile.dockerignore'), 'utf8');
/** Instructions, continuation lines joined, comments dropped. */
const instructions = DOCKERFILE.replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** Runtime (non-type) relative imports of `file`, resolved to repository paths. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(REPO_ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const specs: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.importClause?.namedBindings;
      const onlyTypes = named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly) && !node.importClause?.name;
      if (!onlyTypes) specs.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specs.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      specs.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.relative(REPO_ROOT, path.resolve(REPO_ROOT, path.dirname(file), s)).replace(/\.js$/, '.ts'));
}

function closure(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f) || !/\.(ts|mts)$/.test(f)) continue;
    seen.add(f);
    todo.push(...runtimeImports(f));
  }
  return seen;
}

describe('deploy/Dockerfile (linted: no container engine on this machine)', () => {
  it('is multi-stage, installs production packages with npm ci --omit=dev, runs as a non-root user without npm', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms.every((l) => /\sAS\s+\S+$/i.test(l)), 'every stage is named').toBe(true);
    expect(instructions.some((l) => /^COPY\s+--from=\S+/.test(l)), 'the runtime copies from the build stage').toBe(true);
    const runs = instructions.filter((l) => /^RUN\s/.test(l));
    expect(runs.some((l) => /\bnpm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(runs.some((l) => /\bnpm (install|i)\b/.test(l)), 'npm ci only').toBe(false);
    expect(instructions.some((l) => /^ADD\s+https?:/i.test(l)), 'no download by ADD').toBe(false);
    // The last USER of the last stage is not root.
    const lastStage = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));
    const user = lastStage.filter((l) => /^USER\s/.test(l)).at(-1);
    expect(user, 'the runtime stage sets USER').toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
    // Started by node itself: signals reach the gateway (no npm, no shell, no npx fetching at run time).
    const cmd = lastStage.filter((l) => /^CMD\s/.test(l)).at(-1)!;
    expect(JSON.parse(cmd.replace(/^CMD\s+/, ''))).toEqual(['node', '--import', 'tsx', 'gateway/main.ts']);
    expect(lastStage.some((l) => /^ENV\b.*NODE_ENV=production/.test(l))).toBe(true);
    // tsx runs the sources at run time: it must be a production dependency, or --omit=dev drops it.
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('copies every file the gateway, the subgraphs and the CLI load, and the ignore file keeps secrets and local state out', () => {
    const copied = instructions
      .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((a) => !a.startsWith('--')));
    const ignored = IGNORE.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const must of ['.git', 'node_modules', 'data', 'config/clients.json', '**/*.pem', '**/*.key']) expect(ignored).toContain(must);
    const entries = ['gateway/main.ts', 'cli/main.ts', ...REGISTRIES.map((r) => `subgraphs/${r}/main.ts`)];
    const files = closure(entries);
    expect(files.size).toBeGreaterThan(50);
    for (const f of files) {
      expect(copied.some((c) => f === c || f.startsWith(`${c}/`)), `${f} is loaded at run time but not COPY'd into the image`).toBe(true);
      expect(ignored.some((i) => f === i || f.startsWith(`${i}/`)), `${f} is loaded at run time but excluded by the ignore file`).toBe(false);
    }
  });
});
