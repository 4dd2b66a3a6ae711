import { describe, expect, it } from 'vitest';
import { redactFreeText } from '../../core/secrets.js';

/**
 * verify29c: free text (an MLflow description, a prompt template) quoting a config file — a heredoc that writes
 * `~/.aws/credentials` or `.env` — showed its `name = value` lines: a spaced '=' was read only in code. A whole line
 * whose value is one word is a config line; prose and references stay readable.
 */
describe('redactFreeText: config-file lines quoted in free text', () => {
  it('hides a secret-named INI / .env line, blanks around its =, in a heredoc or alone', () => {
    const heredoc = 'setup:\ncat > ~/.aws/credentials <<EOF\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nEOF\n';
    expect(redactFreeText(heredoc)).toBe('setup:\ncat > ~/.aws/credentials <<EOF\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = [redacted]\nEOF\n');
    expect(redactFreeText("cat > ~/.env <<'EOF'\nWANDB_API_KEY = 0123456789abcdef0123456789abcdef01234567\r\nEOF")).toBe("cat > ~/.env <<'EOF'\nWANDB_API_KEY = [redacted]\r\nEOF");
    expect(redactFreeText('HF_TOKEN = hf_abcdefghijklmnopqrstuvwxyzABCD')).toBe('HF_TOKEN = [redacted]');
    expect(redactFreeText('  db_password =hunter2')).toBe('  db_password =[redacted]');
  });

  it('keeps prose, references and facts about a secret', () => {
    for (const s of [
      'the token = expired last week, rotated',
      'password_file = /run/secrets/db',
      'token_url = https://oauth2.googleapis.com/token',
      'HF_TOKEN = $HF_TOKEN',
      'api_key = None',
      'learning_rate = 0.001',
      'password = cfg.password',
      'token = os.environ["HF_TOKEN"]',
    ]) expect(redactFreeText(s)).toBe(s);
  });
});
