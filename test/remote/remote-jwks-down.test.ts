import { describeSourceDown } from './source-down';

describeSourceDown('resets the connection', { kind: 'down' });
