import { describeSourceDown } from './source-down';

describeSourceDown('answers 500', { kind: 'status', status: 500 });
