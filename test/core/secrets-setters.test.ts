import { describe, expect, it } from 'vitest';
import { redactBase64Text, redactScriptText, redactSecretText } from '../../core/secrets.js';

/** Credentials handed to a tool's config setter or login command, as lifecycle and startup scripts do. */
describe('core/secrets: config setters, .netrc and login commands', () => {
  it('hides the value of a secret-named setting, keeps the command, the name and other settings', () => {
    expect(redactSecretText('aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG')).toBe('aws configure set aws_secret_access_key [redacted]');
    expect(redactSecretText('aws configure set aws_session_token IQoJb3JpZ2luX2Vj --profile ml')).toBe('aws configure set aws_session_token [redacted] --profile ml');
    expect(redactSecretText('npm config set //registry.npmjs.org/:_authToken npm_abcdefghijklmnop')).toBe('npm config set //registry.npmjs.org/:_authToken [redacted]');
    expect(redactSecretText('poetry config http-basic.corp.password s3cret')).toBe('poetry config http-basic.corp.password [redacted]');
    expect(redactSecretText('poetry config http-basic.corp alice s3cret')).toBe('poetry config http-basic.corp alice [redacted]');
    for (const kept of ['aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE', 'aws configure set region us-east-1', 'git config --global credential.helper store', 'git config --global user.name alice', 'echo login failed']) {
      expect(redactSecretText(kept)).toBe(kept);
    }
  });

  it('keeps settings named like secrets that hold none (credential_process, credential_source, user.signingKey): a script using them stays readable', () => {
    for (const kept of [
      'aws configure set credential_process "/usr/local/bin/get-creds --role ml"', 'aws configure set credential_source Ec2InstanceMetadata --profile nb',
      'git config --global user.signingkey 3AA5C34371567BD2', 'git config user.signingKey ~/.ssh/id_ed25519.pub',
      'pip config set global.index-url https://pypi.corp.example/simple', 'git config --global user.email alice@corp.example', 'aws configure set sso_session corp',
    ]) expect(redactSecretText(kept)).toBe(kept);
    const script = '#!/bin/bash\nsudo -u ec2-user -i <<EOF\naws configure set credential_source Ec2InstanceMetadata --profile nb\ngit config --global user.signingkey 3AA5C34371567BD2\npip config set global.index-url https://pypi.corp.example/simple\nEOF\n';
    const b = Buffer.from(script).toString('base64');
    expect(redactBase64Text(b)).toBe(b);
  });

  it('hides a .netrc password and a login command\'s key argument', () => {
    expect(redactSecretText("echo 'machine github.com login alice password s3cretpw' > ~/.netrc")).toBe("echo 'machine github.com login alice password [redacted]' > ~/.netrc");
    expect(redactSecretText('wandb login 0123456789abcdef0123456789abcdef01234567')).toBe('wandb login [redacted]');
    expect(redactSecretText('wandb login --relogin 0123456789abcdef0123456789abcdef01234567')).toBe('wandb login --relogin [redacted]');
  });

  it('a SageMaker lifecycle script configuring the AWS CLI with a key is hidden whole in its base64', () => {
    const script = '#!/bin/bash\nsudo -u ec2-user -i <<EOF\naws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE\naws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nEOF\n';
    expect(redactScriptText(script)).not.toContain('wJalrXUtnFEMI');
    expect(redactBase64Text(Buffer.from(script).toString('base64'))).toBe('[redacted]');
  });
});
