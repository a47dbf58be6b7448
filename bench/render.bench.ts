import {
  type CompiledTemplate,
  compileTemplate,
  countingRules,
  measureMessage,
  renderMessage,
  type SendValues,
  starterTemplates,
  type TemplateMember,
  validateTemplate,
} from '../packages/domain/src/templates';
import { seededRandom } from '../packages/local/src/simulator/random';
import { type BenchResult, median, round1 } from './support';

// What the sender does for every message: render a compiled template for one member and count
// its parts (the rate limiter and the cost both need them). Messages per second on one core,
// over the 14 starter templates plus a custom one with money, dates and attributes, and a mix
// of members: Chinese and English names, missing fields that take defaults, members in other
// time zones, and a few without the coupon code (suppressed, as in a real audience).
// Time is this thread's CPU time, not wall time: "on one core" means what one core does, and
// other processes on a shared machine must not move the figure.

const members = 20_000;
const runs = 7;
const minRunMs = 300;

const surnames = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴'];
const givenNames = ['小明', '丽', '建国', '婷婷', '伟', '芳', '思远', '子涵', '浩然', '雨萱'];
const englishNames = ['Alex Chen', 'Mary Lee', 'John Smith', 'Zoë Wong', 'Sam O’Neil'];
const stores = ['徐汇店', '静安店', '浦东旗舰店', 'Downtown', '南京西路店'];
const tiers = ['普通会员', '银卡会员', '金卡会员', 'Gold'];
const zones = ['Asia/Shanghai', 'Asia/Hong_Kong', 'America/New_York', 'Europe/London'];

function audience(): TemplateMember[] {
  // A fixed seed: the same audience on every run and machine.
  const random = seededRandom(20250618);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return Array.from({ length: members }, (): TemplateMember => {
    const english = random() < 0.15;
    const member: Record<string, unknown> = {
      points: Math.floor(random() * 50_000),
      totalSpend: Math.round(random() * 1_000_000) / 100,
      lastPurchaseAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 180 * 86_400_000)).toISOString(),
      birthday: { month: 1 + Math.floor(random() * 12), day: 1 + Math.floor(random() * 28) },
      attributes:
        random() < 0.97 ? { couponCode: `VIP${Math.floor(random() * 1e6)}`, level: 3 } : { level: 1 },
    };
    if (random() < 0.9) member.name = english ? pick(englishNames) : pick(surnames) + pick(givenNames);
    if (random() < 0.8) member.store = pick(stores);
    if (random() < 0.7) member.tier = pick(tiers);
    if (random() < 0.1) member.timeZone = pick(zones);
    return member;
  });
}

interface Case {
  readonly compiled: CompiledTemplate;
  readonly values: SendValues;
  readonly rule: 'standard' | 'china';
}

function cases(): Case[] {
  const custom = {
    name: '周年庆',
    category: 'marketing',
    locale: 'zh-CN',
    body: '周年庆满{{threshold}}减{{discount}}！{{name|default:"会员"}}，您累计消费{{totalSpend}}，积分{{points|number}}，上次到店{{lastPurchaseAt|date:"M月D日"}}。券码{{attributes.couponCode}}，{{deadline|date}}前有效：{{link}}',
    variables: [
      { name: 'threshold', type: 'money' },
      { name: 'discount', type: 'money' },
      { name: 'deadline', type: 'date' },
    ],
  };
  const inputs = [...starterTemplates.map((starter) => starter.template), custom];
  return inputs.map((input, index) => {
    const signature = input.locale === 'en' ? 'FreshMart' : '优选超市';
    const { template } = validateTemplate({ input, signature, defaultLocale: 'zh-CN' });
    const values = Object.fromEntries(
      template.variables.map((variable) => [
        variable.name,
        variable.example ?? (variable.type === 'date' ? '2025-06-30' : 100),
      ]),
    );
    return {
      compiled: compileTemplate({ template, signature, timeZone: 'Asia/Shanghai' }),
      values,
      // Alternate the providers' counting rules, as tenants do.
      rule: countingRules[index % 2 === 0 ? 'aliyun' : 'twilio'],
    };
  });
}

export async function render(): Promise<BenchResult> {
  const people = audience();
  const templates = cases();
  const link = 'https://m.youxuan.cn/Ab3dE9';
  let sink = 0;
  const pass = (): number => {
    let messages = 0;
    for (let i = 0; i < people.length; i++) {
      const member = people[i] as TemplateMember;
      const { compiled, values, rule } = templates[i % templates.length] as Case;
      const outcome = renderMessage({ compiled, member, values, link });
      if (outcome.kind === 'rendered') sink += measureMessage({ text: outcome.text, rule }).parts;
      messages++;
    }
    return messages;
  };
  for (let i = 0; i < 5; i++) pass(); // warm-up: let the JIT settle
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    let messages = 0;
    const start = process.threadCpuUsage();
    let cpuMs = 0;
    while (cpuMs < minRunMs) {
      messages += pass();
      const used = process.threadCpuUsage(start);
      cpuMs = (used.user + used.system) / 1000;
    }
    rates.push((messages / cpuMs) * 1000);
  }
  const messagesPerSec = Math.round(median(rates));
  console.table([
    {
      templates: templates.length,
      members: people.length,
      messagesPerSec,
      microsPerMessage: round1(1e6 / messagesPerSec),
      partsSeen: sink,
    },
  ]);
  return { name: 'render', figures: { messagesPerSec }, targets: { messagesPerSec: { min: 200_000 } } };
}
