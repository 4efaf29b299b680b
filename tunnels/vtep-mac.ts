// Calico's VTEP MAC when the datastore records none: the byte 0x66 ('f', a locally administered
// unicast address) followed by the first five bytes of SHA-1 of the node name ("<name>-v6" for
// the IPv6 device). Deriving it the same way means wren and Felix agree on every node's MAC
// without writing it anywhere (felix/calc/vxlan_resolver.go, vtepMACForHost).
import { createHash } from 'node:crypto';
import type { Family, Mac } from '../kernel/values.js';

export function derivedVtepMac(nodeName: string, family: Family = 4): Mac {
  const digest = createHash('sha1').update(family === 6 ? `${nodeName}-v6` : nodeName).digest();
  const bytes = [0x66, ...digest.subarray(0, 5)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':') as Mac;
}
