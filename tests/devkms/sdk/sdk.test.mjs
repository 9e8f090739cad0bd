// The official AWS SDK for JavaScript v3 (@aws-sdk/client-kms, pinned in
// package-lock.json), unchanged, against a running devkms.  Run by
// run-sdk-test.sh, which starts devkms and sets DEVKMS_ENDPOINT,
// DEVKMS_STATE and NODE_EXTRA_CA_CERTS (devkms's development CA).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  KMSClient, CreateKeyCommand, DescribeKeyCommand, ListKeysCommand, EncryptCommand,
  DecryptCommand, GenerateDataKeyCommand, GenerateRandomCommand, CreateAliasCommand,
  ListAliasesCommand, DisableKeyCommand, EnableKeyCommand, ScheduleKeyDeletionCommand,
  GetKeyPolicyCommand,
} from '@aws-sdk/client-kms';

const endpoint = process.env.DEVKMS_ENDPOINT;
const creds = JSON.parse(readFileSync(`${process.env.DEVKMS_STATE}/credentials.json`, 'utf8'));
const client = (overrides = {}) => new KMSClient({
  endpoint,
  region: creds.region,
  credentials: { accessKeyId: creds.access_key_id, secretAccessKey: creds.secret_access_key },
  maxAttempts: 1,
  ...overrides,
});
const kms = client();
const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);

async function newKey(description = 'sdk test') {
  const out = await kms.send(new CreateKeyCommand({ Description: description }));
  return out.KeyMetadata;
}

async function rejects(promise, name) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400);
    return true;
  });
}

test('CreateKey and DescribeKey', async () => {
  const meta = await newKey('described');
  assert.match(meta.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(meta.Arn, `arn:aws:kms:${creds.region}:111122223333:key/${meta.KeyId}`);
  assert.equal(meta.KeyState, 'Enabled');
  assert.equal(meta.Enabled, true);
  assert.ok(meta.CreationDate instanceof Date);
  assert.ok(Math.abs(meta.CreationDate.getTime() - Date.now()) < 60_000);
  const described = await kms.send(new DescribeKeyCommand({ KeyId: meta.Arn }));
  assert.equal(described.KeyMetadata.Description, 'described');
  const listed = await kms.send(new ListKeysCommand({}));
  assert.ok(listed.Keys.some((k) => k.KeyId === meta.KeyId));
  const policy = await kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default' }));
  assert.ok(JSON.parse(policy.Policy).Statement.length > 0);
});

test('Encrypt and Decrypt, without and with encryption context', async () => {
  const { KeyId } = await newKey();
  const plain = await kms.send(new EncryptCommand({ KeyId, Plaintext: bytes('hello from the SDK') }));
  const back = await kms.send(new DecryptCommand({ CiphertextBlob: plain.CiphertextBlob }));
  assert.equal(text(back.Plaintext), 'hello from the SDK');
  assert.equal(back.KeyId, plain.KeyId);
  assert.equal(back.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');

  const EncryptionContext = { purpose: 'sdk', tenant: 'a' };
  const ctx = await kms.send(new EncryptCommand({ KeyId, Plaintext: bytes('bound'), EncryptionContext }));
  const ok = await kms.send(new DecryptCommand({ CiphertextBlob: ctx.CiphertextBlob, EncryptionContext }));
  assert.equal(text(ok.Plaintext), 'bound');
  await rejects(kms.send(new DecryptCommand({ CiphertextBlob: ctx.CiphertextBlob })),
    'InvalidCiphertextException');
  await rejects(kms.send(new DecryptCommand({
    CiphertextBlob: ctx.CiphertextBlob, EncryptionContext: { purpose: 'sdk', tenant: 'b' },
  })), 'InvalidCiphertextException');
});

test('GenerateDataKey and GenerateRandom', async () => {
  const { KeyId } = await newKey();
  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId, KeySpec: 'AES_256' }));
  assert.equal(dk.Plaintext.length, 32);
  const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
  assert.deepEqual(Buffer.from(back.Plaintext), Buffer.from(dk.Plaintext));
  const n = await kms.send(new GenerateDataKeyCommand({ KeyId, NumberOfBytes: 100 }));
  assert.equal(n.Plaintext.length, 100);
  const r = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
  assert.equal(r.Plaintext.length, 64);
  await rejects(kms.send(new GenerateRandomCommand({ NumberOfBytes: 2048 })), 'ValidationException');
});

test('aliases', async () => {
  const { KeyId } = await newKey();
  const AliasName = `alias/sdk-${Date.now()}`;
  await kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: KeyId }));
  const enc = await kms.send(new EncryptCommand({ KeyId: AliasName, Plaintext: bytes('aliased') }));
  assert.ok(enc.KeyId.endsWith(KeyId));
  const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: AliasName }));
  assert.equal(text(dec.Plaintext), 'aliased');
  const list = await kms.send(new ListAliasesCommand({ KeyId }));
  assert.deepEqual(list.Aliases.map((a) => a.AliasName), [AliasName]);
  assert.ok(list.Aliases[0].CreationDate instanceof Date);
  await rejects(kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: KeyId })),
    'AlreadyExistsException');
});

test('disabled keys', async () => {
  const { KeyId } = await newKey();
  await kms.send(new DisableKeyCommand({ KeyId }));
  await rejects(kms.send(new EncryptCommand({ KeyId, Plaintext: bytes('x') })), 'DisabledException');
  await kms.send(new EnableKeyCommand({ KeyId }));
  await kms.send(new EncryptCommand({ KeyId, Plaintext: bytes('x') }));
});

test('deleted keys', async () => {
  const { KeyId } = await newKey();
  const enc = await kms.send(new EncryptCommand({ KeyId, Plaintext: bytes('doomed') }));
  const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
  assert.equal(scheduled.KeyState, 'PendingDeletion');
  assert.ok(scheduled.DeletionDate instanceof Date);
  await rejects(kms.send(new EncryptCommand({ KeyId, Plaintext: bytes('x') })), 'KMSInvalidStateException');
  await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
    'KMSInvalidStateException');
  // run-sdk-test.sh starts devkms with --day-seconds 1: the 7 "days" pass.
  await sleep(8000);
  await rejects(kms.send(new DescribeKeyCommand({ KeyId })), 'NotFoundException');
  await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
    'InvalidCiphertextException');
});

test('wrong key and tampered ciphertext', async () => {
  const a = await newKey();
  const b = await newKey();
  const enc = await kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: bytes('mine') }));
  await rejects(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: b.KeyId })),
    'IncorrectKeyException');
  const tampered = Buffer.from(enc.CiphertextBlob);
  tampered[tampered.length - 1] ^= 1;
  await rejects(kms.send(new DecryptCommand({ CiphertextBlob: tampered })), 'InvalidCiphertextException');
  await rejects(kms.send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })),
    'NotFoundException');
});

test('bad signatures and unknown credentials are refused', async () => {
  const wrongSecret = client({
    credentials: { accessKeyId: creds.access_key_id, secretAccessKey: 'not-the-secret' },
  });
  await rejects(wrongSecret.send(new ListKeysCommand({})), 'InvalidSignatureException');
  const wrongKey = client({
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: creds.secret_access_key },
  });
  await rejects(wrongKey.send(new ListKeysCommand({})), 'UnrecognizedClientException');
  const wrongRegion = client({ region: 'eu-north-1' });
  await rejects(wrongRegion.send(new ListKeysCommand({})), 'InvalidSignatureException');
});
