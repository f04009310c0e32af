import '../src/types';
import { install } from '../src/install';
install('window');
