import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerProperties } from '../../../src/local-kafka/broker-properties.js';
import { localCacheDirectory } from '../../../src/local-kafka/cache-directory.js';
import { parseJavaVersion } from '../../../src/local-kafka/java-runtime.js';
import { DEFAULT_KAFKA_VERSION, kafkaVersion } from '../../../src/local-kafka/kafka-version.js';
import { fillOnce } from '../../../src/local-kafka/maven.js';
import { OutputTail } from '../../../src/local-kafka/output-tail.js';

function parseProperties(text: string): Map<string, string> {
  return new Map(
    text
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      }),
  );
}

describe('the local broker settings', () => {
  const placement = { brokerPort: 41001, controllerPort: 41002, dataDirectory: '/tmp/k/data' };

  it('make one combined KRaft node on loopback that advertises the address clients dial', () => {
    const properties = parseProperties(brokerProperties(placement));
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(properties.get('controller.quorum.voters')).toBe('1@127.0.0.1:41002');
    expect(properties.get('listeners')).toBe('PLAINTEXT://127.0.0.1:41001,CONTROLLER://127.0.0.1:41002');
    expect(properties.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:41001');
    expect(properties.get('log.dirs')).toBe('/tmp/k/data');
  });

  it('suit a single node: one replica of the internal topics, transactions possible, no rebalance delay', () => {
    const properties = parseProperties(brokerProperties(placement));
    expect(properties.get('offsets.topic.replication.factor')).toBe('1');
    expect(properties.get('transaction.state.log.replication.factor')).toBe('1');
    expect(properties.get('transaction.state.log.min.isr')).toBe('1');
    expect(properties.get('group.initial.rebalance.delay.ms')).toBe('0');
    // Managed clusters do not create topics on first use; neither does the local one, so a missing create fails here.
    expect(properties.get('auto.create.topics.enable')).toBe('false');
  });

  it('let overrides win over the defaults', () => {
    const properties = parseProperties(brokerProperties(placement, { 'num.partitions': '6', 'x.y': 'z' }));
    expect(properties.get('num.partitions')).toBe('6');
    expect(properties.get('x.y')).toBe('z');
  });

  it('pin a Kafka version that KAFKA_VERSION overrides, refusing what is not a release number', () => {
    expect(kafkaVersion({})).toBe(DEFAULT_KAFKA_VERSION);
    expect(kafkaVersion({ KAFKA_VERSION: ' 3.9.1 ' })).toBe('3.9.1');
    expect(() => kafkaVersion({ KAFKA_VERSION: '4.1; rm -rf /' })).toThrow(/KAFKA_VERSION/);
  });

  it('keep the cache in PERSONA_STREAM_CACHE_DIR, else under XDG_CACHE_HOME, else ~/.cache', () => {
    expect(localCacheDirectory({ PERSONA_STREAM_CACHE_DIR: '/c' })).toBe('/c');
    expect(localCacheDirectory({ XDG_CACHE_HOME: '/x' })).toBe('/x/persona-stream');
    expect(localCacheDirectory({})).toMatch(/\.cache\/persona-stream$/);
  });

  it('read the Java feature release from `java -version` in its old and new forms', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaVersion('openjdk version "25" 2025-09-16')).toBe(25);
    expect(parseJavaVersion('java version "1.8.0_402"')).toBe(8);
    expect(parseJavaVersion('no java here')).toBeUndefined();
  });
});

describe('fillOnce', () => {
  it('fills a cache folder once, never leaving a half-filled one behind a failure', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fill-once-'));
    const target = join(root, 'libs');
    await expect(
      fillOnce(target, async (partial) => {
        await writeFile(join(partial, 'a.jar'), 'half');
        throw new Error('network gone');
      }),
    ).rejects.toThrow('network gone');
    expect(await readdir(root)).toEqual([]);
    expect(await fillOnce(target, (partial) => writeFile(join(partial, 'a.jar'), 'whole'))).toBe(true);
    expect(await fillOnce(target, () => Promise.reject(new Error('must not run')))).toBe(false);
    expect(await readFile(join(target, 'a.jar'), 'utf8')).toBe('whole');
  });
});

describe('OutputTail', () => {
  it('keeps the last lines of a child process across chunk boundaries', () => {
    const tail = new OutputTail(2);
    tail.push('one\ntw');
    tail.push('o\nthree\nfou');
    expect(tail.text()).toBe('two\nthree\nfou');
  });
});
