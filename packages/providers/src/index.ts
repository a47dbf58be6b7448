// SMS providers: the port the sender calls (send a batch, get one outcome per message), what
// each provider can take per call, and the adapters: Aliyun, Tencent Cloud, AWS End User
// Messaging SMS, Twilio and the local simulator, whose wire protocol and signed callbacks are
// defined here too so the simulator and the callback endpoint share them.

export * from './aliyun/adapter';
export * from './aliyun/callbacks';
export * from './aliyun/errors';
export * from './aliyun/signature';
export * from './aws/adapter';
export * from './aws/callbacks';
export * from './callbacks/intake';
export * from './callbacks/reader';
export * from './capabilities';
export * from './port';
export * from './simulator/adapter';
export * from './simulator/callback-reader';
export * from './simulator/callbacks';
export * from './simulator/protocol';
export * from './tencent/adapter';
export * from './tencent/callbacks';
export * from './tencent/errors';
export * from './tencent/signature';
export * from './transport';
export * from './twilio/adapter';
export * from './twilio/callbacks';
