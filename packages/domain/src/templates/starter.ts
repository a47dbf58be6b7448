import type { Locale } from './formats';
import type { TemplateInput } from './template';

// Ready-made templates, from the five templates of the member-SMS strategy article (seed 003:
// activity notice, birthday greeting with a personal discount, points reminder, new product,
// follow-up survey with a link) and the welcome and shipment messages the other seeds ask
// for. `GET /templates/starter` returns them; a merchant copies one and edits it. Each passes
// `validateTemplate`, and each marketing one puts the offer in the first 20 characters.

export const starterKeys = [
  'activity-notice',
  'birthday-greeting',
  'points-reminder',
  'new-product',
  'follow-up-survey',
  'welcome',
  'shipment-notice',
] as const;
export type StarterKey = (typeof starterKeys)[number];

export interface StarterTemplate {
  readonly key: StarterKey;
  /** What to post to create a template from it, as is or edited. */
  readonly template: TemplateInput & { readonly locale: Locale };
}

export const starterTemplates: readonly StarterTemplate[] = [
  {
    key: 'activity-notice',
    template: {
      locale: 'zh-CN',
      name: '活动通知',
      category: 'marketing',
      body: '{{activityDate|date:"M月D日"}}{{activityName}}，多重优惠和精美礼品等您来！尊敬的{{name|default:"会员"}}，欢迎莅临{{store|default:"门店"}}，详情请到店咨询。',
      variables: [
        { name: 'activityDate', type: 'date', description: '活动日期', example: '2025-06-18' },
        { name: 'activityName', type: 'text', description: '活动名称', example: '会员日' },
      ],
    },
  },
  {
    key: 'activity-notice',
    template: {
      locale: 'en',
      name: 'Activity notice',
      category: 'marketing',
      body: '{{activityDate|date:"MMM D"}}: {{activityName}} at {{store|default:"our store"}}, with special offers and gifts for you, {{name|default:"member"}}! Ask in store for details.',
      variables: [
        { name: 'activityDate', type: 'date', description: 'Date of the event', example: '2025-06-18' },
        { name: 'activityName', type: 'text', description: 'Name of the event', example: 'Member Day' },
      ],
    },
  },
  {
    key: 'birthday-greeting',
    template: {
      locale: 'zh-CN',
      name: '生日祝福',
      category: 'marketing',
      body: '生日专享{{discount}}折！{{name|default:"亲爱的会员"}}，祝您生日快乐！凭此短信到店消费享{{discount}}折优惠，有效期至{{deadline|date:"M月D日"}}。',
      variables: [
        { name: 'discount', type: 'number', description: '折扣，如 8.8 表示八八折', example: 8.8 },
        { name: 'deadline', type: 'date', description: '优惠截止日期', example: '2025-06-30' },
      ],
    },
  },
  {
    key: 'birthday-greeting',
    template: {
      locale: 'en',
      name: 'Birthday greeting',
      category: 'marketing',
      body: '{{discount}}% off for your birthday, {{name|default:"friend"}}! Show this text in store by {{deadline|date:"MMM D"}}. Happy birthday!',
      variables: [
        { name: 'discount', type: 'number', description: 'Percent off, e.g. 20', example: 20 },
        { name: 'deadline', type: 'date', description: 'Last day of the offer', example: '2025-06-30' },
      ],
    },
  },
  {
    key: 'points-reminder',
    template: {
      locale: 'zh-CN',
      name: '积分提醒',
      category: 'marketing',
      body: '您有{{points|number}}积分待兑换！{{name|default:"会员"}}您好，积分可兑换{{gift}}或抵扣{{cashValue}}，请于{{deadline|date:"M月D日"}}前到{{store|default:"门店"}}兑换，逾期无效。',
      variables: [
        { name: 'gift', type: 'text', description: '可兑换的礼品', example: '保温杯' },
        { name: 'cashValue', type: 'money', description: '可抵扣的金额（元）', example: 20 },
        { name: 'deadline', type: 'date', description: '兑换截止日期', example: '2025-06-30' },
      ],
    },
  },
  {
    key: 'points-reminder',
    template: {
      locale: 'en',
      name: 'Points reminder',
      category: 'marketing',
      body: '{{points|number}} points are waiting, {{name|default:"member"}}! Redeem them for {{gift}} or {{cashValue}} off at {{store|default:"our store"}} by {{deadline|date:"MMM D"}}.',
      variables: [
        { name: 'gift', type: 'text', description: 'The gift points buy', example: 'a travel mug' },
        { name: 'cashValue', type: 'money', description: 'Amount points take off (CNY)', example: 20 },
        { name: 'deadline', type: 'date', description: 'Last day to redeem', example: '2025-06-30' },
      ],
    },
  },
  {
    key: 'new-product',
    template: {
      locale: 'zh-CN',
      name: '新品推荐',
      category: 'marketing',
      body: '新品首发{{discount}}折！{{productName}}已上市，{{name|default:"会员"}}您好，欢迎到{{store|default:"门店"}}体验或咨询客服。',
      variables: [
        { name: 'discount', type: 'number', description: '首发折扣，如 8.8', example: 8.8 },
        { name: 'productName', type: 'text', description: '新品名称', example: '春季新款风衣' },
      ],
    },
  },
  {
    key: 'new-product',
    template: {
      locale: 'en',
      name: 'New product',
      category: 'marketing',
      body: 'New: {{discount}}% off {{productName}} at launch! Hi {{name|default:"there"}}, come and try it at {{store|default:"our store"}}.',
      variables: [
        { name: 'discount', type: 'number', description: 'Launch percent off, e.g. 15', example: 15 },
        {
          name: 'productName',
          type: 'text',
          description: 'The new product',
          example: 'the spring trench coat',
        },
      ],
    },
  },
  {
    key: 'follow-up-survey',
    template: {
      locale: 'zh-CN',
      name: '回访调查',
      category: 'notification',
      body: '{{name|default:"会员"}}您好，感谢您近期在{{store|default:"本店"}}的消费。为了更好地为您服务，邀请您花1分钟参与满意度回访：{{link}}',
      variables: [],
    },
  },
  {
    key: 'follow-up-survey',
    template: {
      locale: 'en',
      name: 'Follow-up survey',
      category: 'notification',
      body: 'Hi {{name|default:"there"}}, thanks for shopping at {{store|default:"our store"}}. Tell us how we did in a 1-minute survey: {{link}}',
      variables: [],
    },
  },
  {
    key: 'welcome',
    template: {
      locale: 'zh-CN',
      name: '新会员欢迎',
      category: 'notification',
      body: '{{name|default:"您好"}}，欢迎成为{{store|default:"本店"}}会员！您的会员等级：{{tier|default:"普通会员"}}，当前积分{{points|default:"0"}}分，消费即可累积。会员权益详询门店。',
      variables: [],
    },
  },
  {
    key: 'welcome',
    template: {
      locale: 'en',
      name: 'Welcome',
      category: 'notification',
      body: 'Welcome to our membership, {{name|default:"friend"}}! Your tier: {{tier|default:"Member"}}. Points: {{points|default:"0"}}. Ask at {{store|default:"any store"}} about your benefits.',
      variables: [],
    },
  },
  {
    key: 'shipment-notice',
    template: {
      locale: 'zh-CN',
      name: '发货通知',
      category: 'notification',
      body: '您的订单{{orderNo}}已发货，{{carrier}}运单号{{trackingNo}}，查看物流：{{link}}',
      variables: [
        { name: 'orderNo', type: 'text', description: '订单号', example: '202506180012' },
        { name: 'carrier', type: 'text', description: '快递公司', example: '顺丰速运' },
        { name: 'trackingNo', type: 'text', description: '运单号', example: 'SF1234567890' },
      ],
    },
  },
  {
    key: 'shipment-notice',
    template: {
      locale: 'en',
      name: 'Shipment notice',
      category: 'notification',
      body: 'Your order {{orderNo}} has shipped with {{carrier}}, tracking number {{trackingNo}}. Track it: {{link}}',
      variables: [
        { name: 'orderNo', type: 'text', description: 'Order number', example: '202506180012' },
        { name: 'carrier', type: 'text', description: 'Carrier', example: 'SF Express' },
        { name: 'trackingNo', type: 'text', description: 'Tracking number', example: 'SF1234567890' },
      ],
    },
  },
];

/** The starter templates, of one locale or all, in catalogue order. */
export function listStarterTemplates({ locale }: { locale?: Locale } = {}): readonly StarterTemplate[] {
  return locale ? starterTemplates.filter((starter) => starter.template.locale === locale) : starterTemplates;
}
