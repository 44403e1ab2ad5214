"""The node canvas: a QGraphicsScene that follows the document model, and the view around it."""
