/** The ports and folder one local broker runs on. */
export interface BrokerPlacement {
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly dataDirectory: string;
}

/**
 * server.properties for one combined broker + controller (KRaft) on loopback, suited to a single node: internal
 * topics with one replica, no initial rebalance delay, a log cleaner that fits a small heap. Topics are not created
 * on first use, as on managed clusters, so code that forgets to create one fails here too. Short session timeouts
 * are allowed so tests can watch a member leave quickly; `overrides` win over all of it.
 */
export function brokerProperties(placement: BrokerPlacement, overrides: Readonly<Record<string, string>> = {}): string {
  const broker = `127.0.0.1:${String(placement.brokerPort)}`;
  const controller = `127.0.0.1:${String(placement.controllerPort)}`;
  const properties: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${controller}`,
    listeners: `PLAINTEXT://${broker},CONTROLLER://${controller}`,
    'advertised.listeners': `PLAINTEXT://${broker}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': placement.dataDirectory,
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '10',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '1000',
    'log.cleaner.dedupe.buffer.size': String(16 * 1024 * 1024),
    // A restarted node waits out its previous incarnation's session before it serves: keep that short here.
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    'num.network.threads': '2',
    'num.io.threads': '4',
    ...overrides,
  };
  return `${Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

/** Log4j 2 settings: warnings and the server's start line to stdout, which the launcher keeps the tail of. */
export const BROKER_LOG4J2_PROPERTIES = `status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
`;
