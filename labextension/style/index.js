import './base.css';
import './preview.css';
