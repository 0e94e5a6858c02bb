// DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1) signed with Ed25519 through
// node:crypto. The signature covers PAE(payloadType, payload), never the bare payload, so a payload cannot
// be replayed under another type. An envelope carries only the payload, a key id (sha-256 of the public
// key) and signatures: key material never enters an artifact.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Issue } from '@kfm/migration-contracts';

export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** Standard base64 of the payload bytes. */
  payload: string;
  signatures: DsseSignature[];
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN in ASCII decimal bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    Buffer.from(payload),
  ]);
}

/** Hex sha-256 of the public key's SPKI DER: names the key without revealing anything secret. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export type KeyResult = { ok: true; key: KeyObject } | { ok: false; issue: Issue };

/** Parses an Ed25519 private key (PEM). The message never quotes the key text. */
export function parseSigningKey(pem: string | Buffer, source: string): KeyResult {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return {
      ok: false,
      issue: {
        code: 'ARGUMENT_INVALID',
        message: `${source} does not hold a PEM private key`,
        expected: 'an Ed25519 private key in PEM (PKCS#8)',
      },
    };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return {
      ok: false,
      issue: {
        code: 'ARGUMENT_INVALID',
        message: `${source} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`,
        expected: 'an Ed25519 private key',
        found: key.asymmetricKeyType ?? 'unknown',
      },
    };
  }
  return { ok: true, key };
}

/** Parses an Ed25519 public key (PEM SPKI); a private key is accepted and reduced to its public half. */
export function parseVerifyKey(pem: string | Buffer, source: string): KeyResult {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return {
      ok: false,
      issue: {
        code: 'ARGUMENT_INVALID',
        message: `${source} does not hold a PEM public key`,
        expected: 'an Ed25519 public key in PEM (SPKI)',
      },
    };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return {
      ok: false,
      issue: {
        code: 'ARGUMENT_INVALID',
        message: `${source} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`,
        expected: 'an Ed25519 public key',
        found: key.asymmetricKeyType ?? 'unknown',
      },
    };
  }
  return { ok: true, key };
}

/** Signs `payload` (e.g. a statement's canonical bytes) into a DSSE envelope. */
export function signEnvelope(
  payload: Uint8Array,
  key: KeyObject,
  payloadType: string = DSSE_PAYLOAD_TYPE,
): DsseEnvelope {
  const sig = sign(null, preAuthEncoding(payloadType, payload), key);
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: keyIdOf(key), sig: sig.toString('base64') }],
  };
}

export type EnvelopeCheck = { ok: true; payload: Buffer; keyid: string } | { ok: false; reason: string };

/**
 * Verifies an envelope with any of `keys`: at least one signature must verify over PAE with one of them.
 * Key ids only pick the key to try first; a signature is never trusted because of its key id.
 */
export function verifyEnvelope(
  envelope: unknown,
  keys: readonly KeyObject[],
  payloadType: string = DSSE_PAYLOAD_TYPE,
): EnvelopeCheck {
  if (!isEnvelope(envelope)) return { ok: false, reason: 'not a DSSE envelope (payloadType, payload, signatures[])' };
  if (envelope.payloadType !== payloadType)
    return { ok: false, reason: `payloadType is ${envelope.payloadType}, expected ${payloadType}` };
  const payload = Buffer.from(envelope.payload, 'base64');
  if (payload.toString('base64') !== envelope.payload) return { ok: false, reason: 'payload is not canonical base64' };
  const pae = preAuthEncoding(envelope.payloadType, payload);
  const candidates = keys.map((key) => ({ key, id: keyIdOf(key) }));
  for (const signature of envelope.signatures) {
    const sig = Buffer.from(signature.sig, 'base64');
    const ordered = [...candidates].sort((a, b) => Number(b.id === signature.keyid) - Number(a.id === signature.keyid));
    for (const { key, id } of ordered) {
      if (verify(null, pae, key, sig)) return { ok: true, payload, keyid: id };
    }
  }
  const ids = envelope.signatures.map((s) => s.keyid || '(none)').join(', ');
  return { ok: false, reason: `no signature verifies with the given public key(s) (envelope key ids: ${ids})` };
}

function isEnvelope(value: unknown): value is DsseEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.payloadType === 'string' &&
    typeof v.payload === 'string' &&
    Array.isArray(v.signatures) &&
    v.signatures.every(
      (s) =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as DsseSignature).sig === 'string' &&
        typeof ((s as DsseSignature).keyid ?? '') === 'string',
    )
  );
}
