import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DSSE_PAYLOAD_TYPE,
  keyIdOf,
  parseSigningKey,
  parseVerifyKey,
  preAuthEncoding,
  signEnvelope,
  verifyEnvelope,
} from './dsse.js';

const ed = () => generateKeyPairSync('ed25519');
const payload = new TextEncoder().encode('{"_type":"https://in-toto.io/Statement/v1"}');

describe('DSSE', () => {
  it('encodes PAE as the spec does', () => {
    // The DSSE protocol document's example.
    expect(preAuthEncoding('http://example.com/HelloWorld', new TextEncoder().encode('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // Lengths are bytes, not characters.
    expect(preAuthEncoding('t', new TextEncoder().encode('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('signs and verifies with Ed25519; another key, another payload or another type fails', () => {
    const signer = ed();
    const envelope = signEnvelope(payload, signer.privateKey);
    expect(envelope.payloadType).toBe(DSSE_PAYLOAD_TYPE);
    expect(Buffer.from(envelope.payload, 'base64').toString()).toBe(new TextDecoder().decode(payload));
    expect(envelope.signatures[0]?.keyid).toBe(
      createHash('sha256')
        .update(signer.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    );
    const good = verifyEnvelope(envelope, [signer.publicKey]);
    expect(good).toMatchObject({ ok: true, keyid: keyIdOf(signer.publicKey) });

    const other = ed();
    const wrongKey = verifyEnvelope(envelope, [other.publicKey]);
    expect(wrongKey.ok).toBe(false);
    if (!wrongKey.ok) expect(wrongKey.reason).toContain('no signature verifies');
    // A key id that claims to be the other key changes nothing: the signature decides.
    expect(
      verifyEnvelope({ ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid: keyIdOf(other.publicKey) }] }, [
        other.publicKey,
      ]).ok,
    ).toBe(false);
    // Any of several keys will do.
    expect(verifyEnvelope(envelope, [other.publicKey, signer.publicKey]).ok).toBe(true);

    const tampered = Buffer.from(envelope.payload, 'base64');
    tampered[5] = (tampered[5] as number) ^ 1;
    expect(verifyEnvelope({ ...envelope, payload: tampered.toString('base64') }, [signer.publicKey]).ok).toBe(false);
    expect(
      verifyEnvelope({ ...envelope, payloadType: 'application/json' }, [signer.publicKey], 'application/json').ok,
    ).toBe(false);
    expect(verifyEnvelope({ payload: 'x' }, [signer.publicKey]).ok).toBe(false);
  });

  it('never puts key material in the envelope', () => {
    const { privateKey } = ed();
    const text = JSON.stringify(signEnvelope(payload, privateKey));
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const body = pem
      .split('\n')
      .filter((line) => line && !line.startsWith('-----'))
      .join('');
    const raw = privateKey.export({ format: 'jwk' }).d as string;
    expect(text).not.toContain(body);
    expect(text).not.toContain(raw);
    expect(text).not.toContain(Buffer.from(raw, 'base64url').toString('base64'));
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('parses Ed25519 PEM keys and refuses others without quoting them', () => {
    const { privateKey, publicKey } = ed();
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(parseSigningKey(pem, 'key.pem').ok).toBe(true);
    expect(parseVerifyKey(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'pub.pem').ok).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const refused = parseSigningKey(rsa, 'rsa.pem');
    expect(refused).toMatchObject({ ok: false, issue: { code: 'ARGUMENT_INVALID', found: 'rsa' } });
    const garbage = parseSigningKey(
      '-----BEGIN PRIVATE KEY-----\nnot-a-key-c2VjcmV0\n-----END PRIVATE KEY-----\n',
      'env KFM_SIGN',
    );
    expect(garbage.ok).toBe(false);
    expect(JSON.stringify(garbage)).not.toContain('c2VjcmV0');
  });
});
