import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isSecretFlag, isSecretName, redactArgv, redactBase64Text, redactScriptText, redactSecretText, redactUrlSecrets, redactUrlUserinfo } from '../../core/secrets.js';
import { cpuMs } from '../helpers/cpu.js';

describe('core/secrets', () => {
  it('names a secret by the usual parts of env var and config key names, in any case', () => {
    for (const n of ['AWS_SECRET_ACCESS_KEY', 'MLFLOW_TRACKING_PASSWORD', 'db_passwd', 'HF_Token', 'GOOGLE_APPLICATION_CREDENTIALS_JSON', 'SSH_PRIVATE_KEY', 'openai_api_key', 'AWS_SECRET_ACCESS_KEY_ID', 'routing_key', 'password', 'AZURE_STORAGE_CONNECTION_STRING', 'AccountKey', 'DB_PASS', 'MYSQL_PWD']) expect([n, isSecretName(n)]).toEqual([n, true]);
    for (const n of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'LOG_LEVEL', 'AWS_REGION', 'url', 'BYPASS_CACHE', 'PASSTHROUGH', 'PWD', 'AWS_ACCESS_KEY_ID', 'aws_access_key_id', 'ALIBABA_CLOUD_ACCESS_KEY_ID']) expect([n, isSecretName(n)]).toEqual([n, false]);
    // An access key's id names which key (CloudTrail shows it in every record); its secret part stays hidden beside it.
    expect(redactSecretText('export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI')).toBe('export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=[redacted]');
  });

  it('hides the password of curl -u / --user / --proxy-user and credential headers (Authorization, secret-named); user, scheme and other headers stay', () => {
    expect(redactSecretText(`curl -u admin:pw1 -H "Authorization: Bearer t.k.n" -H 'Accept: text/plain' http://h`)).toBe(`curl -u admin:[redacted] -H "Authorization: Bearer [redacted]" -H 'Accept: text/plain' http://h`);
    expect(redactSecretText('PRIVATE-TOKEN: glpat-1')).toBe('PRIVATE-TOKEN: [redacted]');
    for (const s of ['mysql -u root -p', 'Host: mlflow:5000', 'image: nginx:1.25']) expect(redactSecretText(s)).toBe(s);
    expect(redactArgv(['curl', '-u', 'a:b', '--user=c:d', '-u', 'root']).argv).toEqual(['curl', '-u', 'a:[redacted]', '--user=c:[redacted]', '-u', 'root']);
  });

  it('hides secret query parameters and signed-URL signatures of a URL; other parameters and the location stay', () => {
    expect(redactUrlSecrets('https://a.blob.core.windows.net/c/m?sv=1&sig=abc%3D')).toBe('https://a.blob.core.windows.net/c/m?sv=1&sig=[redacted]');
    expect(redactUrlSecrets('https://b.s3.amazonaws.com/m?X-Amz-Expires=60&X-Amz-Signature=f00&x-goog-signature=ba5')).toBe('https://b.s3.amazonaws.com/m?X-Amz-Expires=60&X-Amz-Signature=[redacted]&x-goog-signature=[redacted]');
    expect(redactUrlSecrets('jdbc:mysql://db/x?user=u&password=p&useSSL=true')).toBe('jdbc:mysql://db/x?user=u&password=[redacted]&useSSL=true');
    expect(redactUrlSecrets('https://u:p@h/x?signal=1&design=2')).toBe('https://[redacted]@h/x?signal=1&design=2');
    const plain = 'https://h/x?version=3&page=2';
    expect(redactUrlSecrets(plain)).toBe(plain);
  });

  it('hides the user-info of every URL in a string and keeps host, path and the rest', () => {
    expect(redactUrlUserinfo('https://bob:s3cret@mlflow:5000/api')).toBe('https://[redacted]@mlflow:5000/api');
    expect(redactUrlUserinfo('--a=postgresql://u:p@db/x --b=s3://k:s@bucket/y')).toBe('--a=postgresql://[redacted]@db/x --b=s3://[redacted]@bucket/y');
    // An '@' in a path or query is not user-info.
    const s = 'https://mlflow:5000/users/a@b.com?x=c@d';
    expect(redactUrlUserinfo(s)).toBe(s);
    expect(redactUrlUserinfo('alice@example.com')).toBe('alice@example.com');
    // A password with an unencoded '@': clients split at the last one, so all of it goes.
    expect(redactUrlUserinfo('postgresql://svc:p@ss@w0rd@db:5432/mlflow')).toBe('postgresql://[redacted]@db:5432/mlflow');
    // A string that is one URL: quotes and angle brackets in the password are the password's.
    expect(redactUrlUserinfo(`postgresql://svc:p"w'q<x>@db:5432/mlflow`)).toBe('postgresql://[redacted]@db:5432/mlflow');
    expect(redactUrlUserinfo(`https://a' 'b@c`)).toBe(`https://a' 'b@c`);
    // Not across quotes (URLs in JSON text).
    expect(redactUrlUserinfo('["https://u:p@h/x","bob@example.com"]')).toBe('["https://[redacted]@h/x","bob@example.com"]');
  });

  it('names secret flags (dashes read as underscores), not flags naming where a secret is', () => {
    for (const f of ['--password', '-password', '--aws-secret-access-key', '--api-key', '--access-key', '--token', '--hf_token']) expect([f, isSecretFlag(f)]).toEqual([f, true]);
    for (const f of ['--token-file', '--password_file', '--api-key-header', '--epochs', '--uri', '-c', '--']) expect([f, isSecretFlag(f)]).toEqual([f, false]);
  });

  it('hides secret flag values in a command line, not the next flag of a flag that takes none', () => {
    expect(redactArgv(['--no-token', '--verbose', '--token', '', '--token', '--x']).changed).toEqual([]);
    expect(redactArgv(['--token', 'a', 'b', '--key=c', '--set=db.password=d'])).toEqual({ argv: ['--token', '[redacted]', 'b', '--key=c', '--set=db.password=[redacted]'], changed: [1, 4] });
    const same = ['python', 'x.py', '--epochs=3'];
    expect(redactArgv(same).argv).toBe(same);
  });

  it('hides secret flag values and assignments in text (a shell script, a message); the same string when there is none', () => {
    expect(redactSecretText("a --password 'p w' --token=t; API_KEY=k b && curl 'https://u:p@h/x?n=1&access_token=z'")).toBe(
      "a --password [redacted] --token=[redacted]; API_KEY=[redacted] b && curl 'https://[redacted]@h/x?n=1&access_token=[redacted]'",
    );
    // Quoted in a message (field.Invalid echoes a value): the closing quote stays.
    expect(redactSecretText('args[1]: Invalid value: "--token=t", "K_SECRET=v"')).toBe('args[1]: Invalid value: "--token=[redacted]", "K_SECRET=[redacted]"');
    const s = 'secrets "mlpipeline-minio-artifact" is forbidden: User "alice" cannot get resource "secrets"';
    expect(redactSecretText(s)).toBe(s);
  });

  it('hides the password glued to -p of MySQL / MariaDB clients and after sshpass -p; -p of other tools (ports, flags) and a bare mysql -p stay', () => {
    expect(redactSecretText("mysql -uroot -pS3cret db && mysqldump -p'x y' db; mariadb-admin -h db -pmd-1 status | sshpass -p hunter2 ssh h; sshpass -phunter3 ssh h")).toBe(
      "mysql -uroot -p[redacted] db && mysqldump -p[redacted] db; mariadb-admin -h db -p[redacted] status | sshpass -p [redacted] ssh h; sshpass -p[redacted] ssh h",
    );
    for (const s of ['docker run -p 8080:80 nginx:1.25', 'mysql -u root -p mlflow', 'iperf3 -c h -p5201', 'ls -pa /tmp', 'mysqld --port 3306', 'mysql -P3306 -h db']) expect(redactSecretText(s)).toBe(s);
    expect(redactArgv(['/usr/bin/mysql', '-uroot', '-pS3cret', 'db']).argv).toEqual(['/usr/bin/mysql', '-uroot', '-p[redacted]', 'db']);
    expect(redactArgv(['sshpass', '-p', 'hunter2', 'ssh', 'h']).argv).toEqual(['sshpass', '-p', '[redacted]', 'ssh', 'h']);
    // A container's args, judged by its command or image.
    expect(redactArgv(['-uroot', '-pS3cret', 'db'], 'mysqldump').argv).toEqual(['-uroot', '-p[redacted]', 'db']);
    for (const argv of [['docker', 'run', '-p', '8080:80', 'img'], ['iperf3', '-p5201'], ['mysql', '-p', 'mlflow']]) expect(redactArgv(argv).argv).toBe(argv);
    expect(redactArgv(['-p5201'], 'iperf3').changed).toEqual([]);
  });

  it('reads -u/--user/-U as user:password after curl only: docker, podman, sudo -u uid:gid or user:group stay; unknown commands keep a numeric uid:gid', () => {
    for (const s of ['docker run -u 1000:1000 img', 'podman run --user app:staff img', 'sh -c "docker run -u 0:0 x"']) expect(redactSecretText(s)).toBe(s);
    expect(redactSecretText('docker run -u 1000:1000 img && curl -uadmin:pw1 http://h')).toBe('docker run -u 1000:1000 img && curl -uadmin:[redacted] http://h');
    for (const argv of [['docker', 'run', '-u', '1000:1000', 'img'], ['kubectl', 'run', 'x', '--user=ops:ops'], ['-u', '1000:1000']]) expect(redactArgv(argv).argv).toBe(argv);
    expect(redactArgv(['-u', 'svc:pw2'], 'curlimages/curl').argv).toEqual(['-u', 'svc:[redacted]']);
    expect(redactArgv(['-u', 'svc:pw3']).argv).toEqual(['-u', 'svc:[redacted]']);
  });

  it('keeps what names a secret rather than holding it: a Secret object\'s name or a reference in a flag, an assignment or a header-like key', () => {
    for (const f of ['--secret-name', '--token-secret-ref', '--api-key-name']) expect([f, isSecretFlag(f)]).toEqual([f, false]);
    const argv = ['kubectl', 'create', 'job', '--secret-name', 'db-creds', '--image=registry.local:5000/etl:1.2'];
    expect(redactArgv(argv).argv).toBe(argv);
    for (const s of ['SECRET_NAME=db-creds ./run.sh', 'volume "data": secretName: db-creds not found', 'TOKEN_PATH=/var/run/secrets/token']) expect(redactSecretText(s)).toBe(s);
    expect(redactSecretText('SECRET_NAME=db-creds DB_SECRET=v1 ./run.sh')).toBe('SECRET_NAME=db-creds DB_SECRET=[redacted] ./run.sh');
  });

  it('hides secret-named assignments and keys of a script or config file, quoted or spaced; references to a secret and comparisons stay', () => {
    const script = [
      'import os',
      'password = "py-pw\\"q"',
      "os.environ['AWS_SECRET_ACCESS_KEY'] = 'py-key'",
      'export HF_TOKEN=sh-tok',
      'db_password: yml-pw',
      '"api_token": "json-tok"',
      'secretName: db-creds',
      'TOKEN_PATH = "/var/run/secrets/token"',
      'if token == expected: pass',
      'uri = "postgresql://u:url-pw@db/x"',
    ].join('\n');
    expect(redactScriptText(script).split('\n')).toEqual([
      'import os',
      'password = "[redacted]"',
      "os.environ['AWS_SECRET_ACCESS_KEY'] = '[redacted]'",
      'export HF_TOKEN=[redacted]',
      'db_password: [redacted]',
      '"api_token": "[redacted]"',
      'secretName: db-creds',
      'TOKEN_PATH = "/var/run/secrets/token"',
      'if token == expected: pass',
      'uri = "postgresql://[redacted]@db/x"',
    ]);
    const plain = 'print("hello")\nepochs = 3';
    expect(redactScriptText(plain)).toBe(plain);
  });

  it('hides the body of a PEM private key block in text (also escaped in JSON, or cut before its END line); its armour lines stay', () => {
    const file = 'port: 8080\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpem-body-1\n-----END RSA PRIVATE KEY-----\nimage: nginx:1.25\n';
    expect(redactScriptText(file)).toBe('port: 8080\n-----BEGIN RSA PRIVATE KEY-----[redacted]-----END RSA PRIVATE KEY-----\nimage: nginx:1.25\n');
    expect(redactSecretText('{"id_rsa":"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3pem-body-2\\n-----END OPENSSH PRIVATE KEY-----\\n"}')).toBe('{"id_rsa":"-----BEGIN OPENSSH PRIVATE KEY-----[redacted]-----END OPENSSH PRIVATE KEY-----\\n"}');
    expect(redactSecretText('-----BEGIN PRIVATE KEY-----\nMIIcut-pem-3')).toBe('-----BEGIN PRIVATE KEY-----[redacted]');
    const cert = '-----BEGIN CERTIFICATE-----\nMIIcert\n-----END CERTIFICATE-----';
    expect(redactSecretText(cert)).toBe(cert);
  });


  it('hides a secret-named YAML key\'s block scalar (password: |, >-) line by line up to the key\'s indentation; the next keys stay', () => {
    const yaml = 'db:\n  password: |\n    blk-pw-1\n\n    blk-pw-2\n  user: bob\ntoken: >-\n  blk-tok-3\nport: 8080\nsecretName: |\n  db-creds\n';
    expect(redactScriptText(yaml)).toBe('db:\n  password: |\n    [redacted]\n  user: bob\ntoken: >-\n  [redacted]\nport: 8080\nsecretName: |\n  db-creds\n');
  });

  it("hides curl's user:password after short flags run together ending in u / U (-sSfu, glued -fsSLu…); other tools' clusters stay", () => {
    expect(redactArgv(['curl', '-sSfu', 'bob:cl-pw-1', 'https://h/x']).argv).toEqual(['curl', '-sSfu', 'bob:[redacted]', 'https://h/x']);
    expect(redactArgv(['curl', '-fsSLubob:cl-pw-2', 'https://h/x']).argv).toEqual(['curl', '-fsSLubob:[redacted]', 'https://h/x']);
    expect(redactArgv(['-sSfU', 'proxy:cl-pw-3'], 'curl').argv).toEqual(['-sSfU', 'proxy:[redacted]']);
    expect(redactSecretText('set -e; curl -sSfu "bob:cl pw 4" https://h/x | sh')).toBe('set -e; curl -sSfu "bob:[redacted]" https://h/x | sh');
    expect(redactSecretText('curl -fsSLubob:cl-pw-5 https://h/x')).toBe('curl -fsSLubob:[redacted] https://h/x');
    const others = ['docker', 'run', '-itu', '1000:1000', 'img'];
    expect(redactArgv(others).argv).toBe(others);
    expect(redactSecretText('docker run -itu 1000:1000 img; tar -xvu a:b')).toBe('docker run -itu 1000:1000 img; tar -xvu a:b');
  });

  it('a secret name ending in file / path / dir keeps its value only when that is a place (a path, a file name, a variable): a token given there is hidden', () => {
    expect(redactArgv(['trainer', '--token-file', 'ghp_nofile1', '--token-file', '/run/secrets/hf', '--password-path=pw-nofile2', '--password-path=./pw.txt']).argv)
      .toEqual(['trainer', '--token-file', '[redacted]', '--token-file', '/run/secrets/hf', '--password-path=[redacted]', '--password-path=./pw.txt']);
    expect(redactSecretText('GITHUB_TOKEN_FILE=ghp_nofile3 TOKEN_PATH=/var/run/secrets/token TOKEN_DIR=$HOME/t ./run.sh --token-file hf_nofile4'))
      .toBe('GITHUB_TOKEN_FILE=[redacted] TOKEN_PATH=/var/run/secrets/token TOKEN_DIR=$HOME/t ./run.sh --token-file [redacted]');
    expect(redactScriptText('HF_TOKEN_FILE = "hf_nofile5"\ntoken_path: /var/run/x\n"password_file": "nofile6"\nkey_file: tls.key\n'))
      .toBe('HF_TOKEN_FILE = "[redacted]"\ntoken_path: /var/run/x\n"password_file": "[redacted]"\nkey_file: tls.key\n');
  });

  it("keeps a language model's tokenizer and token counts readable (--tokenizer, --max-num-batched-tokens, max_new_tokens); a token stays hidden", () => {
    for (const n of ['tokenizer', 'TOKENIZERS_PARALLELISM', 'max_new_tokens', 'MAX_TOTAL_TOKENS', 'maxTokens', '--max-num-batched-tokens']) expect([n, isSecretName(n)]).toEqual([n, false]);
    for (const n of ['HF_TOKEN', 'TOKENIZER_SECRET', 'max_tokens_password', 'api_tokens']) expect([n, isSecretName(n)]).toEqual([n, true]);
    expect(redactArgv(['--model', 'm', '--tokenizer', 'meta-llama/Llama-3-8B', '--max-num-batched-tokens', '8192', '--max-tokens=512', '--hf-token', 'hf_tk1']).argv)
      .toEqual(['--model', 'm', '--tokenizer', 'meta-llama/Llama-3-8B', '--max-num-batched-tokens', '8192', '--max-tokens=512', '--hf-token', '[redacted]']);
    expect(redactScriptText('out = model.generate(ids, max_new_tokens=256)\ntokenizer = "meta-llama/Llama-3"\nHF_TOKEN = "hf_tk2"\n'))
      .toBe('out = model.generate(ids, max_new_tokens=256)\ntokenizer = "meta-llama/Llama-3"\nHF_TOKEN = "[redacted]"\n');
  });

  it('hides, in a script, a secret env name handed its value as the next string (os.environ.setdefault, os.putenv) and an Authorization header written as a dict key; messages and variables stay', () => {
    const script = 'os.environ.setdefault("HF_TOKEN", "hf_py1")\nos.putenv(\'API_TOKEN\', \'py2\')\nheaders = {"Authorization": "Bearer py3"}\nauth = {\'Authorization\': f\'Bearer {tok}\'}\nprint("token", "is set")\ntok = os.environ.get("HF_TOKEN", "")\nnames = ["HF_TOKEN", "LOG_LEVEL"]\n';
    expect(redactScriptText(script)).toBe('os.environ.setdefault("HF_TOKEN", "[redacted]")\nos.putenv(\'API_TOKEN\', \'[redacted]\')\nheaders = {"Authorization": "Bearer [redacted]"}\nauth = {\'Authorization\': f\'Bearer {tok}\'}\nprint("token", "is set")\ntok = os.environ.get("HF_TOKEN", "")\nnames = ["HF_TOKEN", "LOG_LEVEL"]\n');
  });

  it('hides a command substitution given as a secret value whole (password=$(cat /x), --token $(…), mysql -p$(…)), not its first word only; other substitutions stay', () => {
    expect(redactSecretText('password=$(cat /run/pw) next')).toBe('password=[redacted] next');
    expect(redactSecretText('run --token $(cat /t) --port 80')).toBe('run --token [redacted] --port 80');
    expect(redactSecretText('--password=$(vault kv get -field=pw x) next')).toBe('--password=[redacted] next');
    expect(redactSecretText('mysql -p$(cat /run/pw) db')).toBe('mysql -p[redacted] db');
    expect(redactSecretText('a=$(date +%s) password=hunter2 next')).toBe('a=$(date +%s) password=[redacted] next');
  });
  it("keeps an OAuth endpoint (token_url, token_endpoint, *_token_uri) and a secret's rule or measure (password_policy, token_ttl) readable, their URL user-info and secret query parameters hidden; tokens stay hidden", () => {
    for (const n of ['token_url', 'TOKEN_ENDPOINT', 'oauth_token_uri', 'tokenUrl', 'password_policy', 'PASSWORD_MIN_LENGTH', 'token_ttl', 'token_type', 'api_key_scopes']) expect([n, isSecretName(n)]).toEqual([n, false]);
    for (const n of ['token', 'OAUTH_TOKEN', 'client_secret', 'password_hash', 'tokenUrlSecret']) expect([n, isSecretName(n)]).toEqual([n, true]);
    expect(redactScriptText('token_url: https://idp.example.com/oauth2/token\ntoken_endpoint = "https://svc:ep-pw-1@idp/token"\npassword_policy: min12\nclient_secret: ep-cs-2\n'))
      .toBe('token_url: https://idp.example.com/oauth2/token\ntoken_endpoint = "https://[redacted]@idp/token"\npassword_policy: min12\nclient_secret: [redacted]\n');
    expect(redactArgv(['--token-url', 'https://idp/t?client_secret=ep-q-3&aud=x', '--token', 'ep-tok-4']).argv).toEqual(['--token-url', 'https://idp/t?client_secret=[redacted]&aud=x', '--token', '[redacted]']);
  });
  it('keeps a port, version or count under a secret-ish name (secret_port, SECRET_PORT, secret_version, token_count) readable; secret_id and secret values stay hidden', () => {
    for (const n of ['secret_port', 'SECRET_PORT', 'secretPort', 'secret_version', 'tokenVersion', 'token_count']) expect([n, isSecretName(n)]).toEqual([n, false]);
    for (const n of ['secret_id', 'client_secret_id', 'token_id', 'vault_secret']) expect([n, isSecretName(n)]).toEqual([n, true]);
    expect(redactScriptText('secret_port: 8443\nsecret_version: 5\nsecret_id: sid-1\n')).toBe('secret_port: 8443\nsecret_version: 5\nsecret_id: [redacted]\n');
    expect(redactSecretText('export SECRET_PORT=5432 DB_PASSWORD=pv-2')).toBe('export SECRET_PORT=5432 DB_PASSWORD=[redacted]');
  });
  it("keeps a Python lookup of an environment variable given to a secret's name whole (os.environ['X'], os.getenv(\"X\")), hides it whole with a default; $VAR and ${VAR} are hidden whole: no value is cut mid-expression", () => {
    const src = "token=os.environ['HF_TOKEN']\napi_key = os.environ[\"API_KEY\"]\npassword = os.getenv('DB_PASSWORD')\nsecret=os.environ.get(\"S\")\n";
    expect(redactScriptText(src)).toBe(src);
    expect(redactSecretText("run token=os.environ['HF_TOKEN'] next")).toBe("run token=os.environ['HF_TOKEN'] next");
    expect(redactScriptText('token = os.getenv("HF_TOKEN", "ref-dflt-1")\nx = 1')).toBe('token = [redacted]\nx = 1');
    expect(redactScriptText('token=os.getenv("HF_TOKEN", "ref-dflt-2")')).toBe('token=[redacted]');
    expect(redactSecretText('TOKEN=$HF_TOKEN PASSWORD=${DB_PASSWORD} x')).toBe('TOKEN=[redacted] PASSWORD=[redacted] x');
  });
  it('hides a Python keyword argument with blanks around its = after an earlier assignment on the line (x = Client(api_key = "x")), one argument a line too; other keywords and variables stay', () => {
    expect(redactScriptText('x = Client(api_key = "kw-sp-1", timeout = 30)')).toBe('x = Client(api_key = "[redacted]", timeout = 30)');
    expect(redactSecretText("c = 1; db = connect(host = 'h', password = r'kw-sp-2')")).toBe("c = 1; db = connect(host = 'h', password = r'[redacted]')");
    expect(redactScriptText('c = Client(\n    url = "https://x",\n    token = "kw-sp-3",\n)')).toBe('c = Client(\n    url = "https://x",\n    token = "[redacted]",\n)');
    const keep = 'x = Client(api_key = key, token_url = "https://idp/t", name = "m")';
    expect(redactScriptText(keep)).toBe(keep);
  });
  it("hides a secret-named key's plain YAML value continued on the more-indented lines under it (YAML folds them into the value) whole; a nested key or comment ends it, code and other keys stay", () => {
    expect(redactScriptText('password: fold-1\n  fold-2\n  fold-3\nport: 1\n')).toBe('password: [redacted]\nport: 1\n');
    expect(redactScriptText('db:\n  - token: fold-4\n      fold-5\n  - x: 1')).toBe('db:\n  - token: [redacted]\n  - x: 1');
    expect(redactScriptText('password: fold-6\r\n   fold-7\r\nport: 1\r\n')).toBe('password: [redacted]\r\nport: 1\r\n');
    for (const keep of ['description: two\n  lines\n', 'password: x\nport: 1\n', 'secret:\n  name: db\n  key: k\n'])
      expect(redactScriptText(keep)).toBe(keep.replace('password: x', 'password: [redacted]'));
    // Code going on after a key-like line is no folded value.
    expect(redactScriptText('def f(password: str,\n        user: str):\n    pass\n')).toContain('\n        user: str):\n');
  });
  it("hides a docker config's auths.<registry>.auth (base64 user:password) in JSON, pretty-printed or escaped one or two strings deep; auth elsewhere and the registry stay", () => {
    const cfg = { auths: { 'registry.example.com': { auth: 'ZG9jazpkay0x' }, 'https://index.docker.io/v1/': { auth: 'ZG9jazpkay0y', email: 'a@b' } }, credHelpers: { 'gcr.io': 'gcloud' } };
    const hidden = { auths: { 'registry.example.com': { auth: '[redacted]' }, 'https://index.docker.io/v1/': { auth: '[redacted]', email: 'a@b' } }, credHelpers: { 'gcr.io': 'gcloud' } };
    expect(redactScriptText(JSON.stringify(cfg))).toBe(JSON.stringify(hidden));
    expect(redactScriptText(JSON.stringify(cfg, null, 2))).toBe(JSON.stringify(hidden, null, 2));
    expect(redactScriptText(JSON.stringify({ 'config.json': JSON.stringify(cfg, null, 2) }))).toBe(JSON.stringify({ 'config.json': JSON.stringify(hidden, null, 2) }));
    expect(redactScriptText(JSON.stringify({ a: JSON.stringify({ 'config.json': JSON.stringify(cfg) }) }))).toBe(JSON.stringify({ a: JSON.stringify({ 'config.json': JSON.stringify(hidden) }) }));
    // A line cut inside the object.
    expect(redactScriptText('{"auths":{"r.io":{"auth":"ZG9jazpkay0z"')).toBe('{"auths":{"r.io":{"auth":"[redacted]"');
    const keep = '{"auth":"basic","auths_note":{"auth":"x"},"auths":{}}';
    expect(redactScriptText(keep)).toBe(keep);
  });
  it("hides a secret-named YAML key's plain value written on the lines under it (password: then the value indented), a list of them; a mapping under the key is read key by key", () => {
    expect(redactScriptText('db:\n  password:\n    nl-pw-1\n  user: bob\napi_keys:\n  - nl-k-2\n  - nl-k-3\nsecret:\n  name: db-creds\n  password: nl-pw-4\ntoken: # set by CI\n  nl-tok-5\nport: 8080\n'))
      .toBe('db:\n  password:\n    [redacted]\n  user: bob\napi_keys:\n  [redacted]\nsecret:\n  name: db-creds\n  password: [redacted]\ntoken: # set by CI\n  [redacted]\nport: 8080\n');
    const plain = 'db:\n  host: h\n  port: 5432\n';
    expect(redactScriptText(plain)).toBe(plain);
  });

  it('hides YAML values under a secret-named key inside escaped JSON (a YAML file in a JSON string, one or two strings deep): block and plain values up to the string\'s end; the JSON around stays', () => {
    const yaml = 'db:\n  password: |\n    esc-blk-1\n  port: 5432\ntoken:\n  esc-next-2';
    const one = JSON.stringify({ 'c.yaml': yaml, next: 'x' });
    expect(redactScriptText(one)).toBe(JSON.stringify({ 'c.yaml': 'db:\n  password: |\n    [redacted]\n  port: 5432\ntoken:\n  [redacted]', next: 'x' }));
    const two = JSON.stringify({ applied: one });
    expect(redactScriptText(two)).toBe(JSON.stringify({ applied: JSON.stringify({ 'c.yaml': 'db:\n  password: |\n    [redacted]\n  port: 5432\ntoken:\n  [redacted]', next: 'x' }) }));
    // A key on the string's first line.
    expect(redactScriptText(JSON.stringify({ f: 'password: >-\n  esc-first-3\n' }))).toBe(JSON.stringify({ f: 'password: >-\n  [redacted]\n' }));
    // A flow mapping and quoted keys in YAML held in a JSON string (the string was matched as one value).
    expect(redactScriptText(JSON.stringify({ f: 'creds: {password: esc-flow-4, user: u}' }))).toBe(JSON.stringify({ f: 'creds: {password: [redacted], user: u}' }));
    expect(redactScriptText(JSON.stringify({ f: '"api_key": esc-qk-5\nx: 1', g: JSON.stringify({ token: 'esc-qk-6' }) }))).toBe(JSON.stringify({ f: '"api_key": [redacted]\nx: 1', g: JSON.stringify({ token: '[redacted]' }) }));
  });
  it('reads YAML in a string escaped 20 deep (2^19 backslashes before its n) without throwing: the pattern counts the backslashes instead of spelling them out', () => {
    const nl = `${'\\'.repeat(2 ** 19)}n`;
    const text = `password:${nl}  deep-esc-1${nl}port: 1`;
    expect(redactScriptText(text)).toBe(`password:${nl}  [redacted]${nl}port: 1`);
  });
  it('hides a secret-named YAML key\'s value after an anchor or tag (`&pw`, `!!str`, kept) and under a key in a CRLF file (line ends kept)', () => {
    expect(redactScriptText('password: &pw yaml-anchor-1\nother: *pw')).toBe('password: &pw [redacted]\nother: *pw');
    expect(redactScriptText('token: !!str yaml-tag-2\n')).toBe('token: !!str [redacted]\n');
    expect(redactScriptText('db:\n  password: &pw\n    yaml-anchor-3\n  port: 5432')).toBe('db:\n  password: &pw\n    [redacted]\n  port: 5432');
    expect(redactScriptText('api_key: !!binary |\n  eWFtbC10YWctNA==\nx: 1')).toBe('api_key: !!binary |\n  [redacted]\nx: 1');
    expect(redactScriptText('password:\r\n  yaml-crlf-5\r\nport: 1\r\n')).toBe('password:\r\n  [redacted]\r\nport: 1\r\n');
    // A credential header's value that starts like a tag is still one.
    expect(redactSecretText("curl -H 'X-Api-Key: !hdr-6' https://x")).toBe("curl -H 'X-Api-Key: [redacted]' https://x");
  });
  it('hides a quoted value that spans lines under a secret\'s name: a YAML double- or single-quoted scalar continued under its key, a Python triple-quoted string, a raw string keyword argument; other keys\' quoted values stay', () => {
    expect(redactScriptText('password: "span-dq-1\n  span-dq-2"\nport: 1')).toBe('password: "[redacted]"\nport: 1');
    expect(redactScriptText("- token: 'span-sq-3\n  span-sq-4'\n- x")).toBe("- token: '[redacted]'\n- x");
    expect(redactScriptText('description: "two\n  lines"\n')).toBe('description: "two\n  lines"\n');
    expect(redactScriptText('PASSWORD = """py-triple-5\npy-triple-6"""\nx = 1')).toBe('PASSWORD = """[redacted]"""\nx = 1');
    expect(redactScriptText("api_key = r'''py-triple-7'''")).toBe("api_key = r'''[redacted]'''");
    expect(redactScriptText('doc = """see the token_url"""')).toBe('doc = """see the token_url"""');
    expect(redactScriptText('c = connect(host="db", password=r"py-raw-8")')).not.toContain('py-raw-8');
  });
  it('hides a secret-named key\'s list written at the key\'s own indentation (`tokens:` then `- x`, as kubectl writes YAML) and a value under a key in a list item (`- token:`); lists of mappings stay', () => {
    expect(redactScriptText('tokens:\n- compact-1\n- compact-2\nport: 1')).toBe('tokens:\n- [redacted]\nport: 1');
    expect(redactScriptText('a:\n  passwords:\n  - compact-3\n  b: 1')).toBe('a:\n  passwords:\n  - [redacted]\n  b: 1');
    expect(redactScriptText('- token:\n    item-4\n- b')).toBe('- token:\n    [redacted]\n- b');
    for (const keep of ['imagePullSecrets:\n- name: regcred\n', 'secrets:\n- name: db-creds\n', '- password:\n- other\n']) expect(redactScriptText(keep)).toBe(keep);
  });
  it('hides a secret-named attribute\'s value after a Python annotation (`api_key: str = "x"`, `Optional[str]`, `SecretStr | None`: a settings class or a default argument); the type and other attributes stay', () => {
    const src = 'class Settings(BaseSettings):\n    api_key: str = "ann-1"\n    token: Optional[str] = \'ann-2\'\n    password: SecretStr | None = "ann-3"\n    max_tokens: int = 512\n';
    expect(redactScriptText(src)).toBe('class Settings(BaseSettings):\n    api_key: str = "[redacted]"\n    token: Optional[str] = \'[redacted]\'\n    password: SecretStr | None = "[redacted]"\n    max_tokens: int = 512\n');
    expect(redactScriptText('def connect(password: str = "ann-4"):')).toBe('def connect(password: str = "[redacted]"):');
  });
  it('hides a base64 value whole when its decoded text holds a secret (.env, credentials file, PEM key); binary, text without one and plain words stay', () => {
    const b64 = (x: string | Uint8Array) => Buffer.from(x).toString('base64');
    for (const text of ['DB_PASSWORD=b64-pw-1\nHOST=h\n', '[default]\naws_secret_access_key = b64-sk-2\n', 'db.url=jdbc:postgresql://u:b64-url-3@db/x\n', '-----BEGIN PRIVATE KEY-----\nMIIb64\n-----END PRIVATE KEY-----\n']) expect(redactBase64Text(b64(text))).toBe('[redacted]');
    for (const v of [b64(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13])), b64('HOST=h\nPORT=5432\n'), 'password', 'not base64 at all']) expect(redactBase64Text(v)).toBe(v);
  });
  it('reads base64 as other tools write it under data (no padding, URL-safe alphabet, wrapped at 76 by `base64`), Latin-1 text and text encoded twice; binary and plain words stay', () => {
    const env = 'A=1\nDB_PASSWORD=b64-loose-1??>>\n# caf\u00e9\n';
    expect(redactBase64Text(Buffer.from(env).toString('base64').replace(/=+$/, ''))).toBe('[redacted]');
    expect(redactBase64Text(Buffer.from(env).toString('base64url'))).toBe('[redacted]');
    expect(redactBase64Text(Buffer.from('x'.repeat(70) + '\n' + env).toString('base64').replace(/(.{76})/g, '$1\n'))).toBe('[redacted]');
    expect(redactBase64Text(Buffer.from(env, 'latin1').toString('base64'))).toBe('[redacted]');
    expect(redactBase64Text(Buffer.from(Buffer.from(env).toString('base64')).toString('base64'))).toBe('[redacted]');
    const png = Buffer.from(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82])).toString('base64url');
    for (const v of [png, 'production', 'ordinary_config_value', Buffer.from('HOST=h\n').toString('base64').replace(/=+$/, '')]) expect(redactBase64Text(v)).toBe(v);
  });
  it('hides a positional credential in a call written one argument a line, or as a triple-quoted literal', () => {
    expect(redactScriptText('c = pymysql.connect(\n    "db",\n    "user",\n    "py-ml-1",\n)')).toBe('c = pymysql.connect(\n    "db",\n    "user",\n    "[redacted]",\n)');
    expect(redactScriptText('r = requests.get(u, auth=(\n    "svc",\n    """py-ml-2"""))')).not.toContain('py-ml-2');
    expect(redactScriptText("smtp.login(\n  'me@example.com',\n  'py-ml-3')")).not.toContain('py-ml-3');
    // Still only the credential's position: a host and port stay.
    expect(redactScriptText('s = pymysql.connect(\n  "db",\n  3306)')).toBe('s = pymysql.connect(\n  "db",\n  3306)');
  });
  it('hides a password or token handed positionally to a call whose signature makes it one (auth=(u, pw), HTTPBasicAuth, login, MySQL connect, FTP); other calls, variables and f-strings stay', () => {
    const script = [
      'r = requests.get(url, auth=("svc", "py-pos-1"))',
      'a = HTTPBasicAuth(os.environ["U"], \'py-pos-2\')',
      'smtp.login("alerts@example.com", "py-pos-3")',
      'huggingface_hub.login("hf_pypos4")',
      'db = pymysql.connect("db.prod", "etl", "py-pos-5", "mlflow")',
      'ftp = ftplib.FTP("ftp.example.com", "u", "py-pos-6")',
      'k = boto3.client("s3", aws_secret_access_key="py-kw-7")',
      'pg = psycopg2.connect("postgresql://etl:py-url-8@db/mlflow")',
      'auth = (user, pw)',
      'imap.login(user, f"{pw}")',
      'x = re.compile("a").connect("a", "b", "c")',
      'log.info("login(", user)',
    ].join('\n');
    expect(redactScriptText(script).split('\n')).toEqual([
      'r = requests.get(url, auth=("svc", "[redacted]"))',
      'a = HTTPBasicAuth(os.environ["U"], \'[redacted]\')',
      'smtp.login("alerts@example.com", "[redacted]")',
      'huggingface_hub.login("[redacted]")',
      'db = pymysql.connect("db.prod", "etl", "[redacted]", "mlflow")',
      'ftp = ftplib.FTP("ftp.example.com", "u", "[redacted]")',
      'k = boto3.client("s3", aws_secret_access_key=[redacted])',
      'pg = psycopg2.connect("postgresql://[redacted]@db/mlflow")',
      'auth = (user, pw)',
      'imap.login(user, f"{pw}")',
      'x = re.compile("a").connect("a", "b", "c")',
      'log.info("login(", user)',
    ]);
    // A one-line python -c in args.
    expect(redactArgv(['python', '-c', 'import requests; requests.get(u, auth=("svc", "py-pos-9"))']).argv[2]).toBe('import requests; requests.get(u, auth=("svc", "[redacted]"))');
  });
  it('hides -p of the MySQL tools that take the password as the next word or glued (mycli, mydumper, myloader, Percona pt-*) and --pass; -p of other tools and a bare mysql -p stay', () => {
    expect(redactArgv(['mycli', '-h', 'db', '-u', 'root', '-p', 'my-tool-1', 'mlflow']).argv).toEqual(['mycli', '-h', 'db', '-u', 'root', '-p', '[redacted]', 'mlflow']);
    expect(redactArgv(['-u', 'root', '-pmy-tool-2', '-B', 'mlflow'], 'mydumper').argv).toEqual(['-u', 'root', '-p[redacted]', '-B', 'mlflow']);
    expect(redactArgv(['--host=db', '-p', 'my-tool-3'], '/usr/bin/pt-online-schema-change').argv).toEqual(['--host=db', '-p', '[redacted]']);
    expect(redactSecretText('mydumper -u root -p my-tool-4 -B x && myloader -pmy-tool-5 -d /d; mycli --pass my-tool-6 db'))
      .toBe('mydumper -u root -p [redacted] -B x && myloader -p[redacted] -d /d; mycli --pass [redacted] db');
    for (const s of ['mysql -u root -p mlflow', 'ptx -p 80', 'docker run -p 8080:80 mycli-image']) expect(redactSecretText(s)).toBe(s);
    const argv = ['pt', '-p', '8080'];
    expect(redactArgv(argv).argv).toBe(argv);
  });
  it("hides a secret-named explicit YAML key's value (`? password` then `: x`, quoted keys, a block or the lines under its ':'), also in escaped JSON; other explicit keys stay", () => {
    expect(redactScriptText('? password\n: expl-1\nport: 1\n')).toBe('? password\n: [redacted]\nport: 1\n');
    expect(redactScriptText('? "api_key"\n: &k expl-2\n- ? \'token\'\n  : expl-3\n')).toBe('? "api_key"\n: &k [redacted]\n- ? \'token\'\n  : [redacted]\n');
    expect(redactScriptText('? token\n: |\n  expl-4\nx: 1\n? secret\n:\n  expl-5\n')).toBe('? token\n: |\n  [redacted]\nx: 1\n? secret\n:\n  [redacted]\n');
    expect(redactScriptText(JSON.stringify({ a: JSON.stringify({ f: 'x: 1\n? password\n: expl-6\ny: 2' }) }))).toBe(JSON.stringify({ a: JSON.stringify({ f: 'x: 1\n? password\n: [redacted]\ny: 2' }) }));
    for (const keep of ['? description\n: plain words\n', '? secretName\n: db-creds\n', 'x = a ? b\n: c\n']) expect(redactScriptText(keep)).toBe(keep);
  });
  it('hides a secret-named key\'s value after tabs (key:\tvalue, tab-indented keys and values) in text and in YAML held in escaped JSON (\\t), and a key at a line\'s start or a quoted value there; the tabs and quotes stay', () => {
    expect(redactScriptText('password:\ttab-1\ndb:\n\ttoken: tab-2\nsecret:\n\ttab-3\nport: 1\n')).toBe('password:\t[redacted]\ndb:\n\ttoken: [redacted]\nsecret:\n\t[redacted]\nport: 1\n');
    const yaml = 'db:\n\tpassword: tab-4\n\tport: 1\ntoken:\n\ttab-5\napi_key:\t"tab-6"\nx: 1\nsecret: tab-7\n';
    const hidden = 'db:\n\tpassword: [redacted]\n\tport: 1\ntoken:\n\t[redacted]\napi_key:\t"[redacted]"\nx: 1\nsecret: [redacted]\n';
    expect(redactScriptText(JSON.stringify({ f: yaml }))).toBe(JSON.stringify({ f: hidden }));
    expect(redactScriptText(JSON.stringify({ a: JSON.stringify({ f: yaml }) }))).toBe(JSON.stringify({ a: JSON.stringify({ f: hidden }) }));
    expect(redactSecretText(JSON.stringify({ f: 'x: 1\n\tpassword:\t"tab-8"' }))).toBe(JSON.stringify({ f: 'x: 1\n\tpassword:\t"[redacted]"' }));
    const keep = JSON.stringify({ f: 'db:\n\thost: h\n\tport:\t5432\n' });
    expect(redactScriptText(keep)).toBe(keep);
  });
  it("hides a secret-named key's quoted or plain YAML value spanning lines in YAML held in escaped JSON, one or two strings deep, up to its closing quote or the string's end; other keys' values and the JSON around stay", () => {
    const yaml = "x: 1\npassword: \"esc-span-1\n  esc-span-2\"\ntoken: 'esc-span-3\n  esc''span-4'\nsecret: esc-span-5\n  esc-span-6\nnote: \"two\n  lines\"\ny: 2";
    const hidden = "x: 1\npassword: \"[redacted]\"\ntoken: '[redacted]'\nsecret: [redacted]\nnote: \"two\n  lines\"\ny: 2";
    expect(redactScriptText(JSON.stringify({ f: yaml, g: 'z' }))).toBe(JSON.stringify({ f: hidden, g: 'z' }));
    expect(redactScriptText(JSON.stringify({ a: JSON.stringify({ f: yaml }) }))).toBe(JSON.stringify({ a: JSON.stringify({ f: hidden }) }));
    // Cut by the string's end (a value the string does not close), and a folded value under its key.
    expect(redactScriptText(JSON.stringify({ f: 'password: "esc-span-7\n  esc-span-8', g: 'api_key: >\n  esc-span-9\n  esc-span-10\nz: 1' }))).toBe(JSON.stringify({ f: 'password: "[redacted]', g: 'api_key: >\n  [redacted]\nz: 1' }));
    const keep = JSON.stringify({ f: 'secret:\n  name: db\n  key: k\npassword: x\n  # note\nport: 1' });
    expect(redactScriptText(keep)).toBe(keep.replace('password: x', 'password: [redacted]'));
  });
  it("hides a docker config's auth written as YAML (auths: then <registry>: then auth: <base64>, quoted or not, a flow mapping, in escaped JSON); auth outside auths and the registries stay", () => {
    expect(redactScriptText('auths:\n  registry.example.com:\n    auth: ZG9ja3lhbWwx\n    email: a@b\n  "r.io":\n    "auth": "ZG9ja3lhbWwy"\nauth: basic\n'))
      .toBe('auths:\n  registry.example.com:\n    auth: [redacted]\n    email: a@b\n  "r.io":\n    "auth": "[redacted]"\nauth: basic\n');
    expect(redactScriptText('auths: {r.io: {auth: ZG9ja3lhbWwz}}\n')).toBe('auths: {r.io: {auth: [redacted]}}\n');
    const yaml = "x: 1\nauths:\n  r.io:\n    auth: 'ZG9ja3lhbWw0' # ci\nauth: basic";
    expect(redactScriptText(JSON.stringify({ a: JSON.stringify({ f: yaml }) }))).toBe(JSON.stringify({ a: JSON.stringify({ f: yaml.replace('ZG9ja3lhbWw0', '[redacted]') }) }));
    for (const keep of ['x:\n  auths:\n  r:\n    auth: basic\n', 'oauths: {r: {auth: basic}}', 'auths_note:\n  r:\n    auth: basic\n']) expect(redactScriptText(keep)).toBe(keep);
  });
  it('reads base64 of UTF-16 text (LE / BE, with or without BOM), of gzip-compressed text (inflated to 256 KiB at most) and split by blanks or line breaks; binary, a gzip of binary and plain sentences stay', () => {
    const env = 'HOST=h\nDB_PASSWORD=b64-enc-1\n';
    const le = Buffer.from(env, 'utf16le');
    const be = Buffer.from(le).swap16();
    for (const bytes of [le, be, Buffer.concat([Buffer.from([0xff, 0xfe]), le]), Buffer.concat([Buffer.from([0xfe, 0xff]), be]), gzipSync(env), gzipSync(le)]) expect(redactBase64Text(bytes.toString('base64'))).toBe('[redacted]');
    const b64 = Buffer.from(env).toString('base64');
    expect(redactBase64Text(b64.replace(/(.{8})/g, '$1 '))).toBe('[redacted]');
    expect(redactBase64Text(b64.replace(/(.{12})/g, '$1\r\n\t'))).toBe('[redacted]');
    // A quarantined line cuts the value: the start of a gzip stream or of UTF-16 text is judged.
    expect(redactBase64Text(gzipSync(`DB_PASSWORD=b64-enc-2\n${'y'.repeat(4000)}`).toString('base64').slice(0, 64), true)).toBe('[redacted]');
    expect(redactBase64Text(Buffer.from('DB_PASSWORD=b64-enc-3\nmore', 'utf16le').toString('base64').slice(0, 63), true)).toBe('[redacted]');
    // Bounded: a gzip bomb is inflated to the limit only (and is no text, its rest unread: not passed on); what a larger text holds first is read.
    const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024));
    expect(redactBase64Text(bomb.toString('base64'))).toBe(`[unscanned: ${bomb.length} bytes]`);
    expect(redactBase64Text(gzipSync(`DB_PASSWORD=b64-enc-4\n${'x=1\n'.repeat(100_000)}`).toString('base64'))).toBe('[redacted]');
    for (const v of [gzipSync(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toString('base64'), gzipSync('HOST=h\n').toString('base64'), Buffer.from('HOST=h\nPORT=1\n', 'utf16le').toString('base64'), 'this is a plain sentence with words', 'abcd efgh ijkl'])
      expect(redactBase64Text(v)).toBe(v);
  });
  it("keeps the backslashes of a deeper string's closing quote after a hidden value in JSON escaped twice or more: the JSON stays well-formed", () => {
    const two = (f: string) => JSON.stringify({ a: JSON.stringify({ f }) });
    const three = (f: string) => JSON.stringify({ b: JSON.stringify({ a: JSON.stringify({ f }) }) });
    for (const r of [redactScriptText, redactSecretText]) {
      expect(r(two('password: bs-1'))).toBe(two('password: [redacted]'));
      expect(r(three('token: bs-2'))).toBe(three('token: [redacted]'));
    }
  });
  it("hides a secret-named key's list written on one line whole (tokens: [a, b], api_keys = [\"a\", \"b\"], \"tokens\": [\"a\"], escaped too); a list of object references (a ServiceAccount's secrets: [{name: x}]) stays", () => {
    expect(redactScriptText('tokens: [flow-1, flow-2]\napi_keys = ["flow-3", "flow-4"]\nx: [1, 2]\n')).toBe('tokens: [redacted]\napi_keys = [redacted]\nx: [1, 2]\n');
    expect(redactSecretText('{"tokens": ["flow-5", "flow-6"], "ports": [1]}')).toBe('{"tokens": [redacted], "ports": [1]}');
    expect(redactScriptText(JSON.stringify({ a: JSON.stringify({ f: 'x: 1\npasswords: [flow-7, flow-8]' }) }))).toBe(JSON.stringify({ a: JSON.stringify({ f: 'x: 1\npasswords: [redacted]' }) }));
    for (const keep of ['secrets: [{name: db-creds}, {name: hf-token, namespace: kubeflow}]\n', '{"secrets":[{"name":"db-creds"}]}', JSON.stringify({ a: JSON.stringify({ secrets: [{ name: 'x' }] }) }), 'imagePullSecrets: [{name: regcred}]'])
      expect([redactScriptText(keep), redactSecretText(keep)]).toEqual([keep, keep]);
    // A reference list with anything else in it is no reference list.
    expect(redactScriptText('secrets: [{name: a}, flow-9]\ntokens: [{value: flow-10}]')).toBe('secrets: [redacted]\ntokens: [redacted]');
  });
  it("keeps a parameter's type annotation under a secret's name (def f(password: str, …), token: Optional[str]), one parameter a line too; a default literal and a YAML value stay hidden", () => {
    for (const keep of ['def f(password: str,\n      user: str):\n    pass\n', 'def f(self, token: Optional[str]) -> None:\n', 'def f(\n    api_key: SecretStr | None,\n    token: bytes,\n):\n'])
      expect([redactScriptText(keep), redactSecretText(keep)]).toEqual([keep, keep]);
    expect(redactScriptText('def f(self, password: str = "ann-only-1", token: str) -> None:')).toBe('def f(self, password: str = "[redacted]", token: str) -> None:');
    expect(redactScriptText('password: str\nf(token: ann-only-2, x)\n')).toBe('password: [redacted]\nf(token: [redacted], x)\n');
  });
  it("hides a single-quoted value whole over its doubled quotes (YAML 'it''s', Python adjacent literals); other quoted values stay", () => {
    expect(redactScriptText("token: 'sq-it''s-1'\npassword = 'sq-2''sq-3'\nnote: 'it''s'\n")).toBe("token: '[redacted]'\npassword = '[redacted]'\nnote: 'it''s'\n");
  });
  it("reads a Python annotation's bracketed type in linear time: an unclosed '[' on a long line is no type (256 KiB of 'def f(password: Optional[' took seconds)", () => {
    // Measured in CPU time, not wall clock (a loaded machine stretched a 250 ms wall bound), and as a ratio: four calls on
    // 64 KiB against one on 256 KiB read the same characters, so a linear reading costs about the same for both (1.2-1.3x
    // measured) while a quadratic one costs four times more for the long line (up to 4x: the unbounded bracket of
    // 995d1c3, put back, measured 3.8x and 1.7 s CPU at 256 KiB). The bound on the long line alone is generous (a linear call is ~40 ms).
    const line = (kib: number) => 'def f(password: Optional['.repeat(Math.ceil((kib * 1024) / 25));
    const short = line(64);
    const long = line(256);
    // Warm (regex compilation, JIT): a first call is slower whatever the input.
    redactScriptText(short);
    const shortMs = cpuMs(() => {
      for (let i = 0; i < 4; i++) redactScriptText(short);
    });
    const longMs = cpuMs(() => redactScriptText(long));
    expect(longMs).toBeLessThan(1000);
    expect(longMs / Math.max(shortMs, 1)).toBeLessThan(2.5);
    expect(redactScriptText('class S:\n    api_key: Optional[str] = "ann-9"\n')).toBe('class S:\n    api_key: Optional[str] = "[redacted]"\n');
  });
  it("hides a secret-named key's one-line list that opens a string of JSON (a YAML file's first line in a ConfigMap JSON), its items quoted or not, at any depth", () => {
    for (const yaml of ['tokens: [fl-1, fl-2]\nx: 1\n', 'api_keys: ["fl-3", "fl-4"]\n'])
      for (const text of [JSON.stringify({ f: yaml }), JSON.stringify(JSON.stringify({ f: yaml }))]) {
        const out = [redactScriptText(text), redactSecretText(text)];
        for (const o of out) expect(o).not.toMatch(/fl-\d/);
        expect(out[0]).toContain('[redacted]');
      }
    expect(redactScriptText(JSON.stringify({ f: 'tokens: [fl-5, fl-6]\n' }))).toBe(JSON.stringify({ f: 'tokens: [redacted]\n' }));
  });
  it("hides a secret-named key's list written one item a line (Python's API_KEYS = [, pretty-printed JSON's \"tokens\": [) whole; a list of object references and other lists stay", () => {
    expect(redactScriptText('API_KEYS = [\n    "ml-1",\n    "ml-2",\n]\nPORTS = [\n    80,\n]\n')).toBe('API_KEYS = [redacted]\nPORTS = [\n    80,\n]\n');
    expect(redactScriptText(JSON.stringify({ api_keys: ['ml-3', 'ml-4'], port: 1 }, null, 2))).toBe('{\n  "api_keys": [redacted],\n  "port": 1\n}');
    const refs = JSON.stringify({ secrets: [{ name: 'db-creds' }, { name: 'hf-token' }], imagePullSecrets: [{ name: 'regcred' }] }, null, 2);
    expect(redactScriptText(refs)).toBe(refs);
  });
  it("reads a flow mapping under any key key by key in one-line text: a secret-named key inside it is hidden, a reference or template in it stays whole", () => {
    for (const f of [redactSecretText, redactScriptText]) {
      expect(f('auth: {token: fm-1}')).toBe('auth: {token: [redacted]}');
      expect(f('credentials: {user: a, password: fm-2}')).toBe('credentials: {user: a, password: [redacted]}');
      expect(f('credentials: {secretName: db-creds}')).toBe('credentials: {secretName: db-creds}');
      expect(f('token: {{ .Values.token }}')).toBe('token: {{ .Values.token }}');
      expect(f('password: {fm-3}')).toBe('password: [redacted]');
    }
  });
  it("keeps a secret-named key ending in arn whose value is an ARN (secret_arn, SecretArn: which Secrets Manager secret); any other value under it is hidden", () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
    for (const text of [`secret_arn: ${arn}\n`, `SECRET_ARN=${arn}`, JSON.stringify({ SecretArn: arn }), `--secret-arn ${arn}`])
      expect([redactScriptText(text), redactSecretText(text)]).toEqual([text, text]);
    expect(redactScriptText('secret_arn: arn-1-hunter\n')).toBe('secret_arn: [redacted]\n');
    expect(redactSecretText('run --secret-arn arn-2-hunter')).toBe('run --secret-arn [redacted]');
    expect(redactArgv(['--secret-arn', arn, '--secret-arn', 'arn-3-hunter']).argv).toEqual(['--secret-arn', arn, '--secret-arn', '[redacted]']);
  });
});
