/**
 * The JupyterLab 4 / Notebook 7 plugin: registers the `meshprogress-nb` widget module with the widget
 * manager, so kernels' `ProgressWidget`/`BatchProgressWidget` find their models and views.
 */

import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { BatchProgressModel, BatchProgressView, ProgressModel, ProgressView } from './widget';
import { MODULE_NAME, MODULE_VERSION } from './version';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'meshprogress-nb:widgets',
  description: 'Live progress widgets for mesh-generation jobs of the meshprogress hub.',
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry): void => {
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: { ProgressModel, ProgressView, BatchProgressModel, BatchProgressView }
    });
  }
};

export default plugin;
