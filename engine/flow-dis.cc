/* flow-dis.cc — OpenCV's DIS optical flow (Kroeger et al. 2016) behind a C function.
 *
 * The only C++ in the engine: cv::Mat headers are wrapped around the caller's images, so
 * they are not copied, and no exception crosses into C. */
#include <opencv2/core.hpp>
#include <opencv2/video/tracking.hpp>

#include "ns-internal.h"

static int
dis_preset (NsFlowPreset preset)
{
  switch (preset)
    {
    case NS_FLOW_ULTRAFAST:
      return cv::DISOpticalFlow::PRESET_ULTRAFAST;
    case NS_FLOW_FAST:
      return cv::DISOpticalFlow::PRESET_FAST;
    case NS_FLOW_MEDIUM:
    default:
      return cv::DISOpticalFlow::PRESET_MEDIUM;
    }
}

extern "C" gboolean
ns_flow_dis (const guint8 *from, const guint8 *to, int w, int h, NsFlowPreset preset,
             float *flow_xy, GError **error)
{
  try
    {
      /* The Mat headers do not own the data; const_cast only because cv::Mat has no
       * read-only header: DIS does not write its inputs. */
      cv::Mat i0 (h, w, CV_8UC1, const_cast<guint8 *> (from));
      cv::Mat i1 (h, w, CV_8UC1, const_cast<guint8 *> (to));
      cv::Mat flow, out (h, w, CV_32FC2, flow_xy);
      cv::Ptr<cv::DISOpticalFlow> dis = cv::DISOpticalFlow::create (dis_preset (preset));

      /* OpenCV's own threads run the stripes; cv::setNumThreads would change them for
       * the whole process, so it is left alone.  The flow starts empty: one of the
       * frames' size would be read as the initial estimate (the caller's uninitialised
       * buffer once made indices of NaN, and a crash). */
      dis->calc (i0, i1, flow);
      flow.copyTo (out);
      return TRUE;
    }
  catch (const cv::Exception &e)
    {
      /* err is the message alone; what () adds the source line and a newline. */
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "optical flow (OpenCV): %s",
                   e.err.c_str ());
    }
  catch (const std::bad_alloc &)
    {
      g_set_error_literal (error, NS_ERROR, NS_ERROR_MEMORY,
                           "optical flow: out of memory");
    }
  catch (const std::exception &e)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "optical flow (OpenCV): %s",
                   e.what ());
    }
  catch (...)
    {
      g_set_error_literal (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                           "optical flow (OpenCV): an unknown failure");
    }
  return FALSE;
}
