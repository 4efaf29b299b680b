// The datastore's contact record (calico/datastore-contact.ts) and the readiness rule on it
// (agent/datastore-health.ts): a datastore failing for longer than the bound makes the agent
// unready with the reason; one that answered within the bound, or answers again, does not.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../agent/config.js';
import { datastoreUnhealthy } from '../agent/datastore-health.js';
import { DatastoreContact } from '../calico/datastore-contact.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');

describe('DatastoreContact', () => {
  it('a failure is current until the next answer, and failingSince is the first failure after the last answer', () => {
    let now = T0;
    const contact = new DatastoreContact(() => now);
    expect(contact.state()).toEqual({ lastContactAt: undefined, failingSince: undefined, failure: undefined });
    contact.succeeded();
    now += 5000;
    contact.failed('14 UNAVAILABLE: Connection dropped');
    now += 3000;
    contact.failed('14 UNAVAILABLE: No connection established');
    expect(contact.state()).toEqual({ lastContactAt: T0, failingSince: T0 + 5000, failure: '14 UNAVAILABLE: No connection established' });
    now += 1000;
    contact.succeeded();
    expect(contact.state()).toEqual({ lastContactAt: T0 + 9000, failingSince: undefined, failure: undefined });
  });

  it.each([
    { name: 'user and password', text: 'etcd https://root:s3cret@10.0.0.1:2379: refused', expected: 'etcd https://***@10.0.0.1:2379: refused' },
    { name: 'user only', text: 'etcd http://wren@h:2379,http://h2:2379: x', expected: 'etcd http://***@h:2379,http://h2:2379: x' },
    { name: 'no userinfo', text: 'etcd unix:///run/etcd.sock:1: x', expected: 'etcd unix:///run/etcd.sock:1: x' },
  ])('a reason keeps no userinfo: $name', ({ text, expected }) => {
    const contact = new DatastoreContact(() => T0);
    contact.failed(text);
    expect(contact.state().failure).toBe(expected);
  });
});

describe('datastoreUnhealthy', () => {
  const failing = { lastContactAt: T0, failingSince: T0 + 1000, failure: 'etcd http://127.0.0.1:2379: 14 UNAVAILABLE: Connection dropped' };
  it.each([
    { name: 'a snapshot file (no contact to keep)', contact: undefined, now: T0, expected: undefined },
    { name: 'answering', contact: { lastContactAt: T0, failingSince: undefined, failure: undefined }, now: T0 + 3_600_000, expected: undefined },
    { name: 'failing, within the bound', contact: failing, now: T0 + 31_000, expected: undefined },
    { name: 'failing, past the bound', contact: failing, now: T0 + 31_001, expected: 'datastore etcdv3 failing for 30 s (last contact 2026-12-06T10:00:00.000Z): etcd http://127.0.0.1:2379: 14 UNAVAILABLE: Connection dropped' },
    { name: 'never answered', contact: { ...failing, lastContactAt: undefined }, now: T0 + 61_000, expected: 'datastore etcdv3 failing for 60 s (never answered): etcd http://127.0.0.1:2379: 14 UNAVAILABLE: Connection dropped' },
  ])('$name', ({ contact, now, expected }) => {
    expect(datastoreUnhealthy('etcdv3', contact, 30_000, now)).toBe(expected);
  });
});

describe('--datastore-timeout (WREN_DATASTORE_TIMEOUT)', () => {
  it.each([
    { name: 'default', flags: {}, env: {}, seconds: 30 },
    { name: 'flag', flags: { 'datastore-timeout': '5' }, env: {}, seconds: 5 },
    { name: 'variable', flags: {}, env: { WREN_DATASTORE_TIMEOUT: '7' }, seconds: 7 },
    { name: 'the flag wins', flags: { 'datastore-timeout': '5' }, env: { WREN_DATASTORE_TIMEOUT: '7' }, seconds: 5 },
  ])('$name', ({ flags, env, seconds }) => {
    expect(loadConfig({ node: 'a', snapshot: '/f', ...flags }, env).datastoreTimeoutSeconds).toBe(seconds);
  });

  it.each([
    { text: '0', why: 'must be whole seconds from 1 to 86400' },
    { text: '86401', why: 'must be whole seconds from 1 to 86400' },
    { text: '1.5', why: 'is not an integer' },
    { text: '30s', why: 'is not an integer' },
  ])('refuses "$text" with one line naming the setting', ({ text, why }) => {
    expect(() => loadConfig({ node: 'a', snapshot: '/f', 'datastore-timeout': text }, {})).toThrow(`bad setting --datastore-timeout (WREN_DATASTORE_TIMEOUT): "${text}" ${why}`);
  });
});
