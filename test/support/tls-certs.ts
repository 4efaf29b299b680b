// A throwaway PKI for TLS tests, made with Debian's openssl: a CA, etcd's server certificate for
// 127.0.0.1, a client certificate that CA signed, and a second CA with a client of its own (a
// client etcd must refuse). EC P-256 keys, valid for a day, in a directory the caller removes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from '../../kernel/exec.js';

export interface Identity {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly ca: string;
  readonly server: Identity;
  readonly client: Identity;
  /** A CA that signed nothing of etcd's, and a client it signed. */
  readonly otherCa: string;
  readonly otherClient: Identity;
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeTestPki(dir: string): Promise<TestPki> {
  const at = (name: string) => join(dir, name);
  const ca = async (name: string) => {
    await runOk('openssl', ['req', '-x509', ...KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`), '-days', '1', '-subj', `/CN=${name}`]);
    return at(`${name}.crt`);
  };
  const issue = async (name: string, by: string, extensions: string): Promise<Identity> => {
    await writeFile(at(`${name}.ext`), `${extensions}\n`);
    await runOk('openssl', ['req', ...KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${name}`]);
    await runOk('openssl', ['x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${by}.crt`), '-CAkey', at(`${by}.key`), '-CAcreateserial', '-out', at(`${name}.crt`), '-days', '1', '-extfile', at(`${name}.ext`)]);
    return { cert: at(`${name}.crt`), key: at(`${name}.key`) };
  };
  const root = await ca('wren-test-ca');
  const otherCa = await ca('wren-other-ca');
  return {
    ca: root,
    server: await issue('etcd-server', 'wren-test-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'),
    client: await issue('wren-client', 'wren-test-ca', 'extendedKeyUsage=clientAuth'),
    otherCa,
    otherClient: await issue('other-client', 'wren-other-ca', 'extendedKeyUsage=clientAuth'),
  };
}
