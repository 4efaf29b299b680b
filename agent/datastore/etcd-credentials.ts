// How wren proves itself to etcd, configured as Calico's own clients are. TLS: the CA that signed
// etcd's certificate (ETCD_CA_CERT_FILE), and the client certificate and key (ETCD_CERT_FILE,
// ETCD_KEY_FILE) that an etcd started with --client-cert-auth asks for. Or etcd's own users
// (ETCD_USERNAME, ETCD_PASSWORD), for an etcd with `auth enable`. The files are read and checked
// once, when the datastore is made (a certificate that is renewed takes a restart, as with
// calico-node); what is wrong with them is said then, naming the setting and the file, rather
// than as a failed handshake on every retry.
import { readFile } from 'node:fs/promises';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { EtcdTls, EtcdUser } from '../../calico/etcd/etcd-client.js';
import { ConfigError } from '../config.js';

export interface EtcdTlsFiles {
  readonly etcdCaCertFile?: string;
  readonly etcdCertFile?: string;
  readonly etcdKeyFile?: string;
}

export interface EtcdUserSettings {
  readonly etcdUsername?: string;
  readonly etcdPassword?: string;
}

/**
 * The TLS material for `endpoints`, or undefined when no file is set (plain http, or https
 * trusting Node's roots). Throws ConfigError, naming the setting, for a half-given client
 * identity, files with http endpoints, a file that cannot be read or is not PEM, or a key that
 * is not the certificate's.
 */
export async function readEtcdTls(files: EtcdTlsFiles, endpoints: readonly string[]): Promise<EtcdTls | undefined> {
  const { etcdCaCertFile, etcdCertFile, etcdKeyFile } = files;
  if (etcdCaCertFile === undefined && etcdCertFile === undefined && etcdKeyFile === undefined) return undefined;
  if (etcdCertFile !== undefined && etcdKeyFile === undefined) throw new ConfigError('etcdKeyFile', 'not set, but --etcd-cert-file is: a client certificate needs its key');
  if (etcdKeyFile !== undefined && etcdCertFile === undefined) throw new ConfigError('etcdCertFile', 'not set, but --etcd-key-file is: a client key needs its certificate');
  const plain = endpoints.find((e) => !e.startsWith('https://'));
  const given: keyof EtcdTlsFiles = etcdCaCertFile === undefined ? 'etcdCertFile' : 'etcdCaCertFile';
  if (plain !== undefined) throw new ConfigError(given, `set, but etcd endpoint ${plain} is not https://`);

  const ca = etcdCaCertFile === undefined ? Buffer.from(rootCertificates.join('\n')) : await readPem('etcdCaCertFile', etcdCaCertFile);
  if (etcdCaCertFile !== undefined) certificateIn('etcdCaCertFile', etcdCaCertFile, ca);
  if (etcdCertFile === undefined || etcdKeyFile === undefined) return { ca };
  const cert = await readPem('etcdCertFile', etcdCertFile);
  const key = await readPem('etcdKeyFile', etcdKeyFile);
  const certificate = certificateIn('etcdCertFile', etcdCertFile, cert);
  if (!certificate.checkPrivateKey(privateKeyIn(etcdKeyFile, key))) {
    throw new ConfigError('etcdKeyFile', `${etcdKeyFile} is not the key of the certificate in ${etcdCertFile} (${certificate.subject.replace(/\n/g, ', ')})`);
  }
  return { ca, cert, key };
}

async function readPem(setting: keyof EtcdTlsFiles, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(setting, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The first certificate of a PEM file (a CA file may hold a bundle). */
function certificateIn(setting: keyof EtcdTlsFiles, path: string, pem: Buffer): X509Certificate {
  // gRPC reads PEM only; X509Certificate would also take DER.
  if (pem.includes('-----BEGIN CERTIFICATE-----')) {
    try {
      return new X509Certificate(pem);
    } catch {
      // Reported below.
    }
  }
  throw new ConfigError(setting, `${path} holds no PEM certificate`);
}

function privateKeyIn(path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new ConfigError('etcdKeyFile', `${path} holds no PEM private key (an encrypted key cannot be used)`);
  }
}

/** The etcd user to authenticate as, or undefined for none; a name without a password or the other way round is refused. */
export function etcdUser(settings: EtcdUserSettings): EtcdUser | undefined {
  const { etcdUsername: username, etcdPassword: password } = settings;
  if (username === undefined && password === undefined) return undefined;
  if (password === undefined) throw new ConfigError('etcdPassword', 'not set, but --etcd-username is: an etcd user needs its password');
  if (username === undefined) throw new ConfigError('etcdUsername', 'not set, but ETCD_PASSWORD is: a password needs its user');
  return { username, password };
}
