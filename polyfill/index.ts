import '../src/types.js';
import { install } from '../src/install';
install();
