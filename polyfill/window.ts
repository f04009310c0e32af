import '../src/types.js';
import { installHere } from '../src/page/entry';
installHere();
