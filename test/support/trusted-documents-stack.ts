/**
 * The whole stack with one TTHC client, `hanoi-tthc`, restricted to the trusted documents
 * generated from the catalog (gateway/auth/trusted-documents.ts), for the trusted-documents
 * tests. `close()` stops the stack and removes the clients and documents files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GatewayOptions } from '../../gateway/app.js';
import { hashApiKey } from '../../gateway/auth/keys.js';
import { loadCatalog } from '../../gateway/procedures/catalog.js';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { findFullProfileCitizen } from '../../mocks/world/generate.js';
import { trustedDocumentsOfCatalog } from '../../scripts/generate-documents.js';
import { startStack, type Stack } from './stack.js';

export interface TrustedDocumentsStack {
  stack: Stack;
  /** The restricted client's clear API key. */
  key: string;
  /** A citizen with every kind of record. */
  personalId: string;
  /** The registered operation of `lodging-notification`. */
  lodging: { sha256: string; query: string };
  close(): Promise<void>;
}

export async function startTrustedDocumentsStack(opts: {
  /** The restricted client's procedures. */
  procedures: string[];
  /** Gateway options on top of the clients file. Default: none. */
  gateway?: Partial<GatewayOptions>;
}): Promise<TrustedDocumentsStack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'motlan-trusted-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    const key = 'trusted-client-key-0123456789abcdef';
    const catalog = loadCatalog({ supergraphSdl: readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8') });
    const file = trustedDocumentsOfCatalog(catalog);
    writeFileSync(path.join(dir, 'trusted-documents.json'), JSON.stringify(file));
    const lodging = file.documents.find((d) => d.procedureId === 'lodging-notification')!;
    writeFileSync(
      path.join(dir, 'clients.json'),
      JSON.stringify({
        clients: [
          {
            id: 'hanoi-tthc',
            agency: 'UBND Thành phố Hà Nội',
            name: 'Hệ thống TTHC Hà Nội (restricted)',
            procedures: opts.procedures,
            trustedDocuments: 'trusted-documents.json', // relative to the clients file
            keys: [{ id: 'k1', sha256: hashApiKey(key), createdAt: '2025-07-01T00:00:00Z' }],
          },
        ],
      }),
    );
    const stack = await startStack({ citizens: 300, gateway: { clientsFile: path.join(dir, 'clients.json'), ...opts.gateway } });
    const personalId = findFullProfileCitizen(stack.world).personalId;
    return {
      stack,
      key,
      personalId,
      lodging,
      close: async () => {
        await stack.close();
        removeDir();
      },
    };
  } catch (err) {
    removeDir();
    throw err;
  }
}
