// The credentials a lone kube-apiserver needs, made with Debian's openssl in the server's own
// directory: a CA and a serving certificate for the addresses clients use, the key that signs
// ServiceAccount tokens, and a static admin token (system:masters) for whoever sets the server
// up. The agents never get the admin token: they get a ServiceAccount token (bootstrap.ts).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from '../../kernel/exec.js';

export interface KubePki {
  /** PEM of the CA that signed the serving certificate: what a client trusts. */
  readonly caPem: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Signs (private) and verifies (public) ServiceAccount tokens. */
  readonly serviceAccountKeyFile: string;
  readonly serviceAccountPubFile: string;
  /** `--token-auth-file`: one line, the admin token in group system:masters. */
  readonly tokenFile: string;
  readonly adminToken: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** `addresses`: every IP the server is reached at (127.0.0.1, the lab's underlay address). */
export async function makeKubePki(dir: string, addresses: readonly string[]): Promise<KubePki> {
  const at = (name: string) => join(dir, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await runOk('openssl', ['req', '-x509', ...EC_KEY, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '365', '-subj', '/CN=wren-kube-ca']);
  const names = ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', ...addresses.map((a) => `IP:${a}`)];
  await writeFile(at('apiserver.ext'), `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth\n`);
  await runOk('openssl', ['req', ...EC_KEY, '-keyout', at('apiserver.key'), '-out', at('apiserver.csr'), '-subj', '/CN=kube-apiserver']);
  await runOk('openssl', ['x509', '-req', '-in', at('apiserver.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('apiserver.crt'), '-days', '365', '-extfile', at('apiserver.ext')]);
  await runOk('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', at('sa.key')]);
  await runOk('openssl', ['ec', '-in', at('sa.key'), '-pubout', '-out', at('sa.pub')]);
  const adminToken = randomBytes(24).toString('hex');
  await writeFile(at('tokens.csv'), `${adminToken},wren-lab-admin,wren-lab-admin,"system:masters"\n`, { mode: 0o600 });
  return {
    caPem: await readFile(at('ca.crt'), 'utf8'),
    caFile: at('ca.crt'),
    certFile: at('apiserver.crt'),
    keyFile: at('apiserver.key'),
    serviceAccountKeyFile: at('sa.key'),
    serviceAccountPubFile: at('sa.pub'),
    tokenFile: at('tokens.csv'),
    adminToken,
  };
}
