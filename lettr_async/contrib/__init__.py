"""Optional integrations with third-party libraries, each behind its own extra.

Nothing here is imported by ``lettr_async`` itself: importing a module of this
package is what pulls in the third-party library it adapts.
"""
