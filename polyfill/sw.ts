import '../src/types.js';
import { installHere } from '../src/worker/entry';
installHere();
